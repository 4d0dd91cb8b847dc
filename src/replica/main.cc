// axon-replica: one replica of one API. Loads the predictor, serves it over HTTP on a loopback
// port, drains on SIGTERM. Started and supervised by the operator.
//
// Start-up protocol with the operator: the replica binds first and writes its port to
// --port-file (so a slow predictor load is visible as "loading", not as silence), then loads
// the predictor. If loading fails it writes the reason to --error-file and exits with
// kExitPredictorFailed.
#include <cstdlib>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "backends/python/python_predictor.h"
#include "common/files.h"
#include "common/log.h"
#include "common/signals.h"
#include "http/server.h"
#include "replica/model_loader.h"
#include "replica/native_predictor.h"
#include "replica/replica_service.h"
#include "spec/api_spec.h"

namespace {

constexpr int kExitPredictorFailed = 78;

struct Flags {
  std::string spec_file;
  std::string replica_id = "replica";
  std::string port_file;
  std::string error_file;
  axon::http::ServerOptions server;
  int drain_ms = 30'000;
};

axon::StatusOr<axon::spec::ApiSpec> ReadSpec(const std::string& path) {
  auto text = axon::ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    return axon::spec::ApiSpecFromJson(nlohmann::json::parse(*text));
  } catch (const std::exception& e) {
    return axon::InvalidArgument("bad spec file " + path + ": " + e.what());
  }
}

// The API's predictor: a native model behind NativePredictor, or a Python predictor.
axon::StatusOr<std::unique_ptr<axon::replica::Predictor>> LoadPredictor(
    const axon::spec::ApiSpec& spec) {
  const axon::spec::PredictorSpec& p = spec.predictor;
  if (axon::spec::IsNativeType(p.type)) {
    auto model = axon::replica::LoadModel(p.model, p.threads_per_process, p.intra_op_threads);
    if (!model.ok()) return model.status();
    return std::unique_ptr<axon::replica::Predictor>(
        std::make_unique<axon::replica::NativePredictor>(std::move(model).value()));
  }
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
  return axon::backends::LoadPythonPredictor(p.path, p.config, std::move(models));
}

void ReportFailure(const Flags& flags, const std::string& reason) {
  spdlog::error("{}", reason);
  if (!flags.error_file.empty()) (void)axon::WriteFileAtomic(flags.error_file, reason);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-replica: serves one API's predictor (started by the operator)"};
  Flags flags;
  app.add_option("--spec", flags.spec_file, "the API spec as JSON")->required();
  app.add_option("--replica-id", flags.replica_id, "name used in logs")->capture_default_str();
  app.add_option("--host", flags.server.host, "address to listen on")->capture_default_str();
  app.add_option("--port", flags.server.port, "port (0 = any free port)")->capture_default_str();
  app.add_option("--unix-socket", flags.server.unix_socket,
                 "also listen on this Unix socket (@name: abstract namespace)");
  app.add_option("--port-file", flags.port_file, "where to write the port once listening");
  app.add_option("--error-file", flags.error_file, "where to write why loading failed");
  app.add_option("--io-threads", flags.server.threads, "I/O threads")->capture_default_str();
  app.add_option("--drain-ms", flags.drain_ms, "how long SIGTERM waits for requests in flight")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  axon::BlockTerminationSignals();
  axon::InitLogging("replica " + flags.replica_id);
  auto spec = ReadSpec(flags.spec_file);
  if (!spec.ok()) {
    ReportFailure(flags, spec.status().message());
    return kExitPredictorFailed;
  }
  flags.server.max_body_bytes = UINT64_MAX;  // the gateway enforces the limit
  // The operator names the API version in the environment (AXON_API_VERSION).
  const char* api_version = std::getenv("AXON_API_VERSION");
  axon::replica::ReplicaService service(spec->name, api_version != nullptr ? api_version : "",
                                        flags.replica_id, spec->predictor.threads_per_process,
                                        spec->predictor.server_side_batching);
  auto server = axon::http::HttpServer::Create(
      flags.server, [&service](axon::http::Request& req) { return service.Handle(req); });
  if (!server.ok()) {
    ReportFailure(flags, server.status().message());
    return 1;
  }
  (*server)->Start();
  if (!flags.port_file.empty()) {
    (void)axon::WriteFileAtomic(flags.port_file, std::to_string((*server)->port()));
  }
  spdlog::info("listening on {}:{}; loading {} predictor {}", flags.server.host, (*server)->port(),
               spec->predictor.type,
               axon::spec::IsNativeType(spec->predictor.type) ? spec->predictor.model.model_path
                                                              : spec->predictor.path);
  auto predictor = LoadPredictor(*spec);
  if (!predictor.ok()) {
    ReportFailure(flags, predictor.status().message());
    (*server)->Shutdown(std::chrono::milliseconds(0));
    (*server)->Wait();
    return kExitPredictorFailed;
  }
  service.SetPredictor(std::move(predictor).value());
  spdlog::info("ready");
  const int sig = axon::WaitForTerminationSignal();
  spdlog::info("signal {}: draining", sig);
  (*server)->Shutdown(std::chrono::milliseconds(flags.drain_ms));
  (*server)->Wait();
  service.Stop();
  spdlog::info("stopped");
  return 0;
}
