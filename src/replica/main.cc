// axon-replica: one replica of one API. Loads the predictor, serves it over HTTP on a loopback
// port, drains on SIGTERM. Started and supervised by the operator.
//
// Start-up protocol with the operator: the replica binds first and writes its port to
// --port-file (so a slow predictor load is visible as "loading", not as silence), then loads
// the predictor. If loading fails it writes the reason to --error-file and exits with
// kExitPredictorFailed.
//
// A standby (--standby TYPE, contract/standby.h) first loads the runtime TYPE and waits for the
// line on stdin that gives it the flags above; from then on it is that replica.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "backends/python/python_predictor.h"
#include "common/axon_home.h"
#include "common/files.h"
#include "common/log.h"
#include "common/signals.h"
#include "contract/flags.h"
#include "http/server.h"
#include "replica/bundle_fetch.h"
#include "replica/command_predictor.h"
#include "replica/model_loader.h"
#include "replica/multi_native_predictor.h"
#include "replica/native_predictor.h"
#include "replica/python_env.h"
#include "replica/replica_service.h"
#include "replica/standby.h"
#include "spec/api_spec.h"

namespace {

constexpr int kExitPredictorFailed = 78;

using Flags = axon::contract::ReplicaFlags;

axon::StatusOr<axon::spec::ApiSpec> ReadSpec(const std::string& path) {
  auto text = axon::ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    return axon::spec::ApiSpecFromJson(nlohmann::json::parse(*text));
  } catch (const std::exception& e) {
    return axon::InvalidArgument("bad spec file " + path + ": " + e.what());
  }
}

// Written in place, not through a rename: in a pod the file is /dev/termination-log, which
// the kubelet bind-mounts and a rename cannot replace.
void ReportFailure(const Flags& flags, const std::string& reason) {
  spdlog::error("{}", reason);
  if (flags.error_file.empty()) return;
  std::ofstream out(flags.error_file, std::ios::trunc);
  out << reason;
}

// What loading needs besides the spec. Not owned; outlive the predictor.
struct LoadContext {
  const Flags& flags;
  bool* stopped;                      // set when a termination signal ends the start-up
  std::atomic<bool>* command_exited;  // set when a command's server exits after start-up
  std::function<bool()> StopRequested() const {
    return [stopped = stopped] {
      *stopped = *stopped || axon::PollTerminationSignal() != 0;
      return *stopped;
    };
  }
};

// The virtual environment of predictor.dependencies, built first if need be; "" without
// dependencies.
axon::StatusOr<std::filesystem::path> PreparePythonEnv(const axon::spec::PredictorSpec& p,
                                                       const LoadContext& context) {
  if (p.dependencies.empty()) return std::filesystem::path();
  return axon::replica::EnsurePythonEnv(p.dependencies,
                                        {.envs_root = axon::AxonHome::FromEnvironment().EnvsDir(),
                                         .python = AXON_PYTHON_EXECUTABLE,
                                         .python_version = AXON_PYTHON_VERSION,
                                         .stop_requested = context.StopRequested()});
}

// type: command. When the server exits later, the replica says why and drains.
axon::StatusOr<std::unique_ptr<axon::replica::Predictor>> StartCommand(
    const axon::spec::ApiSpec& spec, const LoadContext& context) {
  const Flags& flags = context.flags;
  std::atomic<bool>* exited = context.command_exited;
  return axon::replica::StartCommandPredictor(
      {.command = spec.predictor.command,
       .working_dir = spec.predictor.path,
       .log_file = axon::AxonHome::FromEnvironment().ApiLog(spec.name),
       .request_timeout =
           spec.networking.timeout.count() > 0 ? spec.networking.timeout : std::chrono::minutes(10),
       .stop_requested = context.StopRequested(),
       .on_exit = [&flags, exited](const std::string& how) {
         ReportFailure(flags, "predictor.command: the server exited (" + how + ")");
         exited->store(true);
         ::kill(::getpid(), SIGTERM);  // the main thread drains and exits
       }});
}

// The API's predictor: a native model behind NativePredictor, a command's server, or a Python
// predictor (in its virtual environment when it has dependencies).
axon::StatusOr<std::unique_ptr<axon::replica::Predictor>> LoadPredictor(
    const axon::spec::ApiSpec& spec, const LoadContext& context) {
  const axon::spec::PredictorSpec& p = spec.predictor;
  if (axon::spec::IsNativeType(p.type) && !p.multi_model.empty()) {
    const char* replica = std::getenv("AXON_REPLICA_ID");
    auto cache = std::make_unique<axon::replica::NativeModelCache>(
        p.multi_model,
        axon::replica::NativeLoader(p.model, p.threads_per_process, p.intra_op_threads),
        replica != nullptr ? replica : "");
    cache->Start();
    return std::unique_ptr<axon::replica::Predictor>(
        std::make_unique<axon::replica::MultiNativePredictor>(p.type, std::move(cache)));
  }
  if (axon::spec::IsNativeType(p.type)) {
    auto model = axon::replica::LoadModel(p.model, p.threads_per_process, p.intra_op_threads);
    if (!model.ok()) return model.status();
    return std::unique_ptr<axon::replica::Predictor>(
        std::make_unique<axon::replica::NativePredictor>(std::move(model).value()));
  }
  if (p.type == "command") return StartCommand(spec, context);
  auto python_env = PreparePythonEnv(p, context);
  if (!python_env.ok()) return python_env.status();
  std::vector<axon::backends::NamedModel> models;
  for (const auto& m : p.models) {
    auto model = axon::replica::LoadModel(m, p.threads_per_process, p.intra_op_threads);
    if (!model.ok()) {
      return axon::Status(model.status().code(),
                          "predictor.models \"" + m.name + "\": " + model.status().message());
    }
    nlohmann::json description = model->Describe();
    models.push_back({m.name, std::move(model->model), std::move(description)});
  }
  return axon::backends::LoadPythonPredictor(p.path, p.config, std::move(models), p.multi_model,
                                             *python_env);
}

// The time the runtime was loaded, once this process has become a replica and its flags
// are in `flags`; nullopt when the standby should exit with `*exit_code`.
std::optional<std::chrono::steady_clock::time_point> RunStandby(Flags& flags, int* exit_code) {
  axon::InitLogging({.source = "replica", .replica = "standby"});
  *exit_code = 1;
  if (!axon::spec::IsNativeType(flags.standby)) {
    spdlog::error("--standby {}: expected a native runtime (torchscript, onnx or xgboost)",
                  flags.standby);
    return std::nullopt;
  }
  if (const axon::Status loaded = axon::replica::PreloadRuntime(flags.standby); !loaded.ok()) {
    spdlog::error("standby: {}", loaded.message());
    return std::nullopt;
  }
  const auto loaded_at = std::chrono::steady_clock::now();
  auto assignment = axon::replica::ReadAssignment();
  if (!assignment.ok()) {
    spdlog::error("standby: {}", assignment.status().message());
    return std::nullopt;
  }
  *exit_code = 0;
  if (!*assignment) return std::nullopt;  // not needed
  flags = (*assignment)->flags;
  if (const axon::Status applied = axon::replica::ApplyAssignment(**assignment); !applied.ok()) {
    ReportFailure(flags, "standby replica: " + applied.message());
    *exit_code = kExitPredictorFailed;
    return std::nullopt;
  }
  return loaded_at;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-replica: serves one API's predictor (started by the operator)"};
  Flags flags;
  axon::contract::Register(app, flags);
  CLI11_PARSE(app, argc, argv);

  axon::BlockTerminationSignals();
  std::optional<std::chrono::steady_clock::time_point> runtime_loaded_at;
  if (!flags.standby.empty()) {
    int exit_code = 0;
    runtime_loaded_at = RunStandby(flags, &exit_code);
    if (!runtime_loaded_at) return exit_code;
  }
  // The operator names the API and its version in the environment.
  const char* api_name = std::getenv("AXON_API");
  const char* api_version = std::getenv("AXON_API_VERSION");
  axon::InitLogging({.source = "replica",
                     .api = api_name != nullptr ? api_name : "",
                     .version = api_version != nullptr ? std::atoll(api_version) : 0,
                     .replica = flags.replica_id});
  if (runtime_loaded_at) {
    spdlog::info("started from a standby replica: the runtime was loaded {} ms before",
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - *runtime_loaded_at)
                     .count());
  }
  if (flags.spec_file.empty()) {
    spdlog::error("--spec is required");
    return 2;
  }
  auto spec = ReadSpec(flags.spec_file);
  if (!spec.ok()) {
    ReportFailure(flags, spec.status().message());
    return kExitPredictorFailed;
  }
  axon::replica::ReplicaService service(spec->name, api_version != nullptr ? api_version : "",
                                        flags.replica_id, spec->predictor.threads_per_process,
                                        spec->predictor.server_side_batching);
  const axon::http::ServerOptions server_options{.host = flags.host,
                                                 .port = flags.port,
                                                 .threads = flags.io_threads,
                                                 .unix_socket = flags.unix_socket,
                                                 .max_body_bytes = flags.max_body_bytes};
  auto server = axon::http::HttpServer::Create(
      server_options, [&service](axon::http::Request& req, axon::http::BodyWriter& writer) {
        return service.Handle(req, writer);
      });
  if (!server.ok()) {
    ReportFailure(flags, server.status().message());
    return 1;
  }
  (*server)->Start();
  if (!flags.port_file.empty()) {
    (void)axon::WriteFileAtomic(flags.port_file, std::to_string((*server)->port()));
  }
  spdlog::info("listening on {}:{}; loading {} predictor {}", flags.host, (*server)->port(),
               spec->predictor.type,
               axon::spec::IsNativeType(spec->predictor.type) && spec->predictor.multi_model.empty()
                   ? spec->predictor.model.model_path
                   : spec->predictor.path);
  if (!flags.bundle_url.empty()) {
    const axon::Status fetched =
        axon::replica::FetchBundle({.url = flags.bundle_url,
                                    .hash = flags.bundle_hash,
                                    .key = flags.bundle_key,
                                    .into = std::filesystem::current_path()});
    if (!fetched.ok()) {
      ReportFailure(flags, fetched.message());
      (*server)->Shutdown(std::chrono::milliseconds(0));
      (*server)->Wait();
      return 1;
    }
  }
  bool stopped = false;
  std::atomic<bool> command_exited{false};
  const auto load_start = std::chrono::steady_clock::now();
  auto predictor = LoadPredictor(*spec, {flags, &stopped, &command_exited});
  if (!predictor.ok()) {
    if (!stopped) ReportFailure(flags, predictor.status().message());
    (*server)->Shutdown(std::chrono::milliseconds(0));
    (*server)->Wait();
    return stopped ? 0 : kExitPredictorFailed;
  }
  service.SetPredictor(std::move(predictor).value(),
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - load_start));
  spdlog::info("ready");
  const int sig = axon::WaitForTerminationSignal();
  spdlog::info("signal {}: draining", sig);
  (*server)->Shutdown(std::chrono::milliseconds(flags.drain_ms));
  (*server)->Wait();
  service.Stop();
  spdlog::info("stopped");
  return command_exited ? kExitPredictorFailed : 0;
}
