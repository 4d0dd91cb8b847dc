// axon-operator: the control plane. Started in the background by `axon up`; starts and
// supervises the gateway and the replicas; serves the management API for the CLI.
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/axon_home.h"
#include "common/files.h"
#include "common/log.h"
#include "common/process.h"
#include "common/signals.h"
#include "http/server.h"
#include "operator/controller.h"
#include "operator/management_api.h"

namespace {

using namespace std::chrono_literals;
using namespace axon;

constexpr uintmax_t kMaxLogBytes = 10 * 1024 * 1024;
constexpr int kRotatedLogs = 3;

struct Flags {
  http::ServerOptions management{.port = 8889};
  operator_::GatewayOptions gateway;
  int tick_ms = 200;
  int drain_ms = 30'000;
  int request_timeout_ms = 60'000;
  int autoscale_ms = 10'000;
  int sample_ms = 1000;
  int hold_timeout_ms = 60'000;
  int64_t max_held = 1000;
};

// Runs Controller::Tick() every `period` on its own thread until destroyed.
class ReconcileLoop {
 public:
  ReconcileLoop(operator_::Controller& controller, const AxonHome& home,
                std::chrono::milliseconds period)
      : thread_([this, &controller, home, period] { Run(controller, home, period); }) {}
  ~ReconcileLoop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ReconcileLoop(const ReconcileLoop&) = delete;
  ReconcileLoop& operator=(const ReconcileLoop&) = delete;

 private:
  void Run(operator_::Controller& controller, const AxonHome& home,
           std::chrono::milliseconds period) {
    auto next_rotation = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      try {
        controller.Tick();
        if (std::chrono::steady_clock::now() >= next_rotation) {
          for (const auto& entry : std::filesystem::directory_iterator(home.LogDir())) {
            if (entry.path().extension() == ".log") {
              RotateIfLarger(entry.path(), kMaxLogBytes, kRotatedLogs);
            }
          }
          next_rotation += 5s;
        }
      } catch (const std::exception& e) {
        spdlog::error("reconcile pass failed: {}", e.what());
      }
      lock.lock();
      cv_.wait_for(lock, period, [this] { return stop_; });
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-operator: the Axon control plane (started by `axon up`)"};
  Flags flags;
  app.add_option("--host", flags.management.host, "management API address")->capture_default_str();
  app.add_option("--port", flags.management.port, "management API port")->capture_default_str();
  app.add_option("--gateway-host", flags.gateway.host, "gateway address")->capture_default_str();
  app.add_option("--gateway-port", flags.gateway.port, "gateway port")->capture_default_str();
  app.add_option("--gateway-grpc-port", flags.gateway.grpc_port,
                 "gateway port for the Open Inference Protocol over gRPC (0 = none)")
      ->capture_default_str();
  app.add_option("--gateway-threads", flags.gateway.threads, "gateway I/O threads")
      ->capture_default_str();
  app.add_option("--max-body-bytes", flags.gateway.max_body_bytes, "largest request body")
      ->capture_default_str();
  app.add_option("--tick-ms", flags.tick_ms, "reconcile period")->capture_default_str();
  app.add_option("--drain-ms", flags.drain_ms, "how long stopping replicas may drain")
      ->capture_default_str();
  app.add_option("--request-timeout-ms", flags.request_timeout_ms, "gateway request timeout")
      ->capture_default_str();
  app.add_option("--autoscale-ms", flags.autoscale_ms, "how often the autoscaler decides")
      ->capture_default_str();
  app.add_option("--sample-ms", flags.sample_ms, "how often the gateway samples in-flight requests")
      ->capture_default_str();
  app.add_option("--hold-timeout-ms", flags.hold_timeout_ms,
                 "how long the gateway holds a request for an API at zero replicas")
      ->capture_default_str();
  app.add_option("--max-held", flags.max_held,
                 "how many requests the gateway holds per API at zero replicas")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  BlockTerminationSignals();
  InitLogging("operator");
  const AxonHome home = AxonHome::FromEnvironment();
  auto token = ReadFile(home.TokenFile());
  if (!token.ok()) {
    spdlog::error("no token at {}: start the platform with `axon up`", home.TokenFile().string());
    return 2;
  }
  auto store = operator_::StateStore::Open(home.StateDb());
  if (!store.ok()) {
    spdlog::error("{}", store.status().message());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(home.LogDir(), ec);
  flags.gateway.binary = ExecutableDir() / "axon-gateway";
  flags.gateway.drain = std::chrono::milliseconds(flags.drain_ms);
  flags.gateway.sample = std::chrono::milliseconds(flags.sample_ms);
  flags.gateway.token_file = home.TokenFile();
  flags.gateway.token = *token;
  flags.gateway.routes_file = home.RunDir() / "routes.json";
  flags.gateway.pid_file = home.RunDir() / "gateway.pid";
  flags.gateway.log_file = home.LogDir() / "gateway.log";
  operator_::GatewayLink gateway(flags.gateway);
  operator_::LocalProcessBackend backend(ExecutableDir() / "axon-replica");
  SteadyClock clock;
  operator_::Controller controller(
      {.home = home,
       .drain = std::chrono::milliseconds(flags.drain_ms),
       .request_timeout = std::chrono::milliseconds(flags.request_timeout_ms),
       .autoscale_interval = std::chrono::milliseconds(flags.autoscale_ms),
       .hold_timeout = std::chrono::milliseconds(flags.hold_timeout_ms),
       .max_held = flags.max_held},
      **store, backend, gateway, clock);
  controller.LoadFromStore();

  operator_::ManagementApi api(
      controller, *token,
      {{"version", AXON_VERSION},
       {"operator", flags.management.host + ":" + std::to_string(flags.management.port)},
       {"gateway", gateway.address()},
       {"pid", getpid()}},
      [] { ::kill(getpid(), SIGTERM); });
  auto server = http::HttpServer::Create(flags.management,
                                         [&api](http::Request& req) { return api.Handle(req); });
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  (void)WriteFileAtomic(home.RunDir() / "operator.pid", std::to_string(getpid()));
  (*server)->Start();
  spdlog::info("management API on {}:{}; state in {}", flags.management.host, (*server)->port(),
               home.root.string());
  {
    ReconcileLoop loop(controller, home, std::chrono::milliseconds(flags.tick_ms));
    const int sig = WaitForTerminationSignal();
    spdlog::info("signal {}: stopping the platform", sig);
  }
  gateway.Stop(std::chrono::milliseconds(flags.drain_ms));
  controller.StopAllReplicas();
  (*server)->Shutdown(1s);
  (*server)->Wait();
  std::filesystem::remove(home.RunDir() / "operator.pid", ec);
  spdlog::info("stopped");
  return 0;
}
