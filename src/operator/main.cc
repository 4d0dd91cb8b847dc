// axon-operator: the control plane. Started in the background by `axon up` (or as a pod by
// `axon cluster install`); starts and supervises the gateway and the replicas (or drives the
// cluster that runs them); serves the management API for the CLI.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/axon_home.h"
#include "common/files.h"
#include "common/home_lock.h"
#include "common/install_layout.h"
#include "common/log.h"
#include "common/process.h"
#include "common/sha256.h"
#include "common/signals.h"
#include "common/version.h"
#include "contract/flags.h"
#include "http/server.h"
#include "kube/client.h"
#include "kube/credentials.h"
#include "operator/async_dispatcher.h"
#include "operator/async_requests.h"
#include "operator/bundles.h"
#include "operator/controller.h"
#include "operator/gateway_link.h"
#include "operator/gateway_pods.h"
#include "operator/job_runner.h"
#include "operator/kubernetes_backend.h"
#include "operator/local_backend.h"
#include "operator/management_api.h"
#include "operator/pod_logs.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_work_queue.h"

namespace {

using namespace std::chrono_literals;
using namespace axon;

constexpr uintmax_t kMaxLogBytes = 10 * 1024 * 1024;
constexpr int kRotatedLogs = 3;

// Runs Controller::Tick() every `period` on its own thread until destroyed; every
// `starting_period` (if shorter) while a replica is starting, so that it is routed soon after
// it is ready.
class ReconcileLoop {
 public:
  ReconcileLoop(operator_::Controller& controller, const AxonHome& home,
                std::chrono::milliseconds period, std::chrono::milliseconds starting_period)
      : thread_([this, &controller, home, period, starting_period] {
          Run(controller, home, period, std::min(period, starting_period));
        }) {}
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

  // Starts the next pass now (or right after the one running). Any thread.
  void Wake() {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }

 private:
  void Run(operator_::Controller& controller, const AxonHome& home,
           std::chrono::milliseconds period, std::chrono::milliseconds starting_period) {
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
      const bool starting = controller.ReplicasStarting();
      lock.lock();
      cv_.wait_for(lock, starting ? starting_period : period, [this] { return stop_ || wake_; });
      wake_ = false;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool wake_ = false;  // guarded by mu_
  std::thread thread_;
};

// Wakes `loop` as soon as the gateway holds a new request for an API with no ready replica
// (GatewayLink::WaitForHeld), so that an API at zero replicas starts one at once rather than at
// the next tick. Its own thread, until destroyed (which may take up to kWait).
class HeldWatch {
 public:
  HeldWatch(const operator_::Gateways& gateway, ReconcileLoop& loop)
      : thread_([this, &gateway, &loop] { Run(gateway, loop); }) {}
  ~HeldWatch() {
    stop_.store(true);
    thread_.join();
  }
  HeldWatch(const HeldWatch&) = delete;
  HeldWatch& operator=(const HeldWatch&) = delete;

 private:
  static constexpr auto kWait = 1s;
  static constexpr auto kRetry = 200ms;  // after a failure (the gateway is starting, say)

  void Run(const operator_::Gateways& gateway, ReconcileLoop& loop) {
    int64_t seen = -1;  // the first answer says how many were held before
    while (!stop_.load()) {
      auto held = gateway.WaitForHeld(seen, kWait);
      if (!held.ok()) {
        seen = -1;  // a restarted gateway counts from 0 again
        std::this_thread::sleep_for(kRetry);
        continue;
      }
      // More held since the last answer, or a restarted gateway; on the first answer, any
      // held at all (they may have come before this thread could ask).
      if (*held != std::max<int64_t>(seen, 0)) loop.Wake();
      seen = *held;
    }
  }

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The gateway's flags, from the operator's: the same limits on the public port, an admin
// listener private to this AXON_HOME.
contract::GatewayFlags GatewayFlagsFor(const contract::OperatorFlags& f, const AxonHome& home) {
  contract::GatewayFlags g;
  g.host = f.gateway_host;
  g.port = f.gateway_port;
  g.grpc_port = f.grpc_port;
  g.threads = f.gateway_threads;
  g.admin_listen = "@axon-admin-" + Sha256Hex(home.root.string()).substr(0, 16);
  g.limits = f.limits;
  g.drain_ms = f.drain_ms;
  g.sample_ms = f.sample_ms;
  g.token_file = home.TokenFile().string();
  g.routes_file = (home.RunDir() / "routes.json").string();
  g.tls_cert = f.tls_cert;
  g.tls_key = f.tls_key;
  return g;
}

// The abstract Unix socket of the operator's async listener (operator/async_requests.h).
std::string AsyncListenerFor(const AxonHome& home) {
  return "@axon-async-" + Sha256Hex(home.root.string()).substr(0, 16);
}

// Where replicas run: child processes (LocalBackend) or pods (KubernetesBackend).
struct Backend {
  std::unique_ptr<operator_::ChildReplicaProcesses> processes;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<operator_::ApiBackend> api;
  std::function<std::map<std::string, int64_t>()> adopt;  // replica counts found running
  std::unique_ptr<operator_::PodLogs> pod_logs;           // the replicas' logs, when they are pods
};

StatusOr<Backend> MakeBackend(const contract::OperatorFlags& flags, const AxonHome& home,
                              const std::string& token, operator_::StateStore& store,
                              const Clock& clock, const std::filesystem::path& replica_binary) {
  Backend b;
  if (flags.backend == "local") {
    b.processes = std::make_unique<operator_::ChildReplicaProcesses>(
        replica_binary, home.LogDir() / "operator.log");
    auto local = std::make_unique<operator_::LocalBackend>(
        operator_::LocalBackendOptions{
            .home = home,
            .drain = std::chrono::milliseconds(flags.drain_ms),
            .ready_timeout = std::chrono::milliseconds(flags.ready_timeout_ms),
            .max_body_bytes = flags.limits.max_body_bytes,
            .standby = flags.standby},
        *b.processes, store, clock);
    b.adopt = [backend = local.get()] { return backend->AdoptSaved(); };
    b.api = std::move(local);
    return b;
  }
  if (flags.backend != "kubernetes") {
    return InvalidArgument("--backend " + flags.backend + ": expected local or kubernetes");
  }
  if (flags.bundle_url.empty()) {
    return InvalidArgument(
        "--backend kubernetes needs --bundle-url: this management API as pods reach it "
        "(http://HOST:PORT)");
  }
  if (flags.bundle_url.find("$(") != std::string::npos) {
    return InvalidArgument("--bundle-url " + flags.bundle_url +
                           ": a variable the kubelet did not set (the axon-operator Service did "
                           "not exist when this pod started; the next container start will "
                           "have it)");
  }
  auto credentials = flags.kubeconfig.empty() ? kube::InClusterCredentials(kube::EnvironmentMap())
                                              : kube::LoadKubeconfig(flags.kubeconfig);
  if (!credentials.ok()) return credentials.status();
  auto client = kube::Client::New(std::move(credentials).value());
  if (!client.ok()) return client.status();
  b.client = std::move(client).value();
  kube::ClusterOptions cluster{.ns = flags.kube_namespace,
                               .replica_image = flags.replica_image,
                               .image_pull_policy = flags.image_pull_policy,
                               .drain_ms = flags.drain_ms};
  auto kubernetes = std::make_unique<operator_::KubernetesBackend>(
      operator_::KubernetesBackendOptions{.cluster = cluster,
                                          .bundle_url = flags.bundle_url,
                                          .token = token,
                                          .bundles_root = home.root / "bundles"},
      *b.client, clock);
  kubernetes->Start();
  b.pod_logs = std::make_unique<operator_::PodLogs>(
      operator_::PodLogsOptions{.ns = flags.kube_namespace}, *b.client);
  b.adopt = [backend = kubernetes.get()] { return backend->AdoptRunning(); };
  b.api = std::move(kubernetes);
  return b;
}

// The gateways the route tables go to: a process of this operator's, or (an operator in the
// cluster) the namespace's gateway pods.
StatusOr<std::unique_ptr<operator_::Gateways>> MakeGateways(const contract::OperatorFlags& flags,
                                                            const AxonHome& home,
                                                            const std::string& token,
                                                            kube::Client* client) {
  if (flags.gateway == "pods") {
    if (client == nullptr) return InvalidArgument("--gateway pods needs --backend kubernetes");
    auto pods = std::make_unique<operator_::GatewayPods>(
        operator_::GatewayPodsOptions{.ns = flags.kube_namespace,
                                      .admin_port = flags.gateway_admin_port,
                                      .token = token,
                                      .sample_ms = flags.sample_ms},
        *client);
    pods->Start();
    return std::unique_ptr<operator_::Gateways>(std::move(pods));
  }
  if (flags.gateway != "process") {
    return InvalidArgument("--gateway " + flags.gateway + ": expected process or pods");
  }
  auto binary = ProgramPath("axon-gateway");
  if (!binary.ok()) return binary.status();
  return std::unique_ptr<operator_::Gateways>(std::make_unique<operator_::GatewayLink>(
      operator_::GatewayOptions{.binary = *binary,
                                .flags = GatewayFlagsFor(flags, home),
                                .token = token,
                                .state_file = home.RunDir() / "gateway.json",
                                .log_file = home.LogDir() / "gateway.log"}));
}

// The controller's log reader: the pods' logs, or (null: the local backend) its files.
operator_::LogReader LogReaderOf(const operator_::PodLogs* pods) {
  if (pods == nullptr) return nullptr;
  return [pods](const std::string& api, const operator_::LogQuery& query) {
    return pods->Read(api, query);
  };
}

// Runs the platform until SIGTERM/SIGINT; returns the exit code.
int Serve(const contract::OperatorFlags& flags, const AxonHome& home, const std::string& token,
          operator_::StateStore& store, axon::store::WorkQueue& work_queue,
          axon::store::JobStore& job_store) {
  SteadyClock clock;
  // Only the local backend starts replica processes.
  auto replica_binary = flags.backend == "local"
                            ? ProgramPath("axon-replica")
                            : StatusOr<std::filesystem::path>(std::filesystem::path());
  if (!replica_binary.ok()) {
    spdlog::error("{}", replica_binary.status().message());
    return 2;
  }
  auto made = MakeBackend(flags, home, token, store, clock, *replica_binary);
  if (!made.ok()) {
    spdlog::error("{}", made.status().message());
    return 2;
  }
  auto gateways = MakeGateways(flags, home, token, made->client.get());
  if (!gateways.ok()) {
    spdlog::error("{}", gateways.status().message());
    return 2;
  }
  operator_::Gateways& gateway = **gateways;
  operator_::ApiBackend& backend = *made->api;
  operator_::BundleStore bundles(home.root / "bundles");
  operator_::Controller controller(
      {.home = home,
       .request_timeout = std::chrono::milliseconds(flags.request_timeout_ms),
       .autoscale_interval = std::chrono::milliseconds(flags.autoscale_ms),
       .hold_timeout = std::chrono::milliseconds(flags.hold_timeout_ms),
       .max_held = flags.max_held,
       .history_interval = std::chrono::milliseconds(std::max<int64_t>(flags.history_ms, 100)),
       .work_queue = &work_queue,
       .async_listener = AsyncListenerFor(home),
       .read_logs = LogReaderOf(made->pod_logs.get())},
      store, backend, gateway, bundles, clock);
  if (Status s = controller.LoadFromStore(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 2;
  }
  // BatchAPI and TaskAPI jobs (local mode only): their workers are applied before the backend
  // adopts what an earlier operator left running, so that running workers are kept.
  std::unique_ptr<operator_::AsyncDispatcher> dispatcher;
  std::unique_ptr<operator_::JobRunner> jobs;
  if (flags.backend == "local") {
    jobs = std::make_unique<operator_::JobRunner>(
        operator_::JobRunner::Options{
            .home = home, .batch_timeout = std::chrono::milliseconds(flags.request_timeout_ms)},
        job_store, work_queue, backend, [&dispatcher] {
          if (dispatcher != nullptr) dispatcher->Wake();
        });
    if (Status s = jobs->Load(); !s.ok()) {
      spdlog::error("{}", s.message());
      return 2;
    }
  }
  controller.KeepAdoptedScale(made->adopt());

  operator_::ManagementApi api(
      controller, token,
      {{"version", Version()},
       {"commit", GitCommit()},
       {"operator", flags.host + ":" + std::to_string(flags.port)},
       {"gateway", gateway.address()},
       {"axon_home", home.root.string()},
       {"pid", getpid()}},
      [] { ::kill(getpid(), SIGTERM); }, &bundles, /*workers=*/4, home.root / "uploads",
      jobs.get());
  auto server = http::HttpServer::Create(
      {.host = flags.host,
       .port = flags.port,
       .max_header_bytes = flags.limits.max_header_bytes,
       .header_timeout = std::chrono::milliseconds(flags.limits.header_timeout_ms),
       .tls_cert_file = flags.tls_cert,
       .tls_key_file = flags.tls_key},
      [&api](http::Request& req) { return api.Handle(req); });
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  // AsyncAPIs: requests stored by the async listener, fed to replicas by the dispatcher, which
  // also feeds the batches of running jobs to their workers.
  dispatcher = std::make_unique<operator_::AsyncDispatcher>(
      operator_::AsyncDispatcher::Options{
          .job_item_finished =
              [&jobs](const operator_::AsyncApiView& view, std::chrono::milliseconds elapsed) {
                if (jobs != nullptr) jobs->BatchFinished(view, elapsed);
              }},
      work_queue, [&controller, &jobs] {
        std::vector<operator_::AsyncApiView> views = controller.AsyncApis();
        if (jobs != nullptr) {
          for (auto& view : jobs->Views()) views.push_back(std::move(view));
        }
        return views;
      });
  operator_::AsyncRequests async_requests(
      controller, work_queue, token, [d = dispatcher.get()] { d->Wake(); }, /*workers=*/2,
      jobs.get());
  auto async_server = http::HttpServer::Create(
      {.listen_tcp = false,
       .unix_socket = AsyncListenerFor(home),
       .max_body_bytes = flags.limits.max_body_bytes,
       .max_header_bytes = flags.limits.max_header_bytes,
       .header_timeout = std::chrono::milliseconds(flags.limits.header_timeout_ms)},
      [&async_requests](http::Request& req) { return async_requests.Handle(req); });
  if (!async_server.ok()) {
    spdlog::error("{}", async_server.status().message());
    return 1;
  }
  (*async_server)->Start();
  if (jobs != nullptr) jobs->Start();
  (void)WriteFileAtomic(home.RunDir() / "operator.pid", std::to_string(getpid()));
  (*server)->Start();
  spdlog::info("management API on {}:{}; state in {}", flags.host, (*server)->port(),
               home.root.string());
  {
    ReconcileLoop loop(controller, home, std::chrono::milliseconds(flags.tick_ms),
                       std::chrono::milliseconds(flags.starting_tick_ms));
    HeldWatch held_watch(gateway, loop);
    const int sig = WaitForTerminationSignal();
    spdlog::info("signal {}: stopping the platform", sig);
  }
  (*async_server)->Shutdown(1s);
  (*async_server)->Wait();
  dispatcher.reset();  // waits for the requests it is sending
  jobs.reset();        // its workers stop with the other replicas
  gateway.Stop();
  backend.StopAll();
  (*server)->Shutdown(1s);
  (*server)->Wait();
  std::error_code ec;
  std::filesystem::remove(home.RunDir() / "operator.pid", ec);
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-operator: the Axon control plane (started by `axon up`)"};
  contract::OperatorFlags flags;
  contract::Register(app, flags);
  CLI11_PARSE(app, argc, argv);

  BlockTerminationSignals();
  InitLogging({.source = "operator"});
  const AxonHome home = AxonHome::FromEnvironment();
  auto lock =
      HomeLock::Acquire(home, "operator pid " + std::to_string(getpid()) + ", management API " +
                                  flags.host + ":" + std::to_string(flags.port));
  if (!lock.ok()) {
    spdlog::error("{}", lock.status().message());
    return 2;
  }
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
  auto work_queue = axon::store::SqliteWorkQueue::Open(home.root / "queue.db");
  if (!work_queue.ok()) {
    spdlog::error("{}", work_queue.status().message());
    return 2;
  }
  auto job_store = axon::store::SqliteJobStore::Open(home.root / "jobs.db");
  if (!job_store.ok()) {
    spdlog::error("{}", job_store.status().message());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(home.LogDir(), ec);
  std::filesystem::remove_all(home.root / "uploads", ec);  // of deploys cut short
  return Serve(flags, home, *token, **store, **work_queue, **job_store);
}
