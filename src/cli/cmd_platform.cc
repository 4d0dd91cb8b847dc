// axon up | down | version
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/files.h"
#include "common/process.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

struct UpFlags {
  PlatformAddresses addresses;
  int gateway_threads = 2;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  int drain_ms = 30'000;
  int request_timeout_ms = 60'000;
  int tick_ms = 200;
  int autoscale_ms = 10'000;
  int sample_ms = 1000;
  int hold_timeout_ms = 60'000;
  int64_t max_held = 1000;
};

void EnsureToken(const AxonHome& home) {
  if (std::filesystem::exists(home.TokenFile())) return;
  const auto status =
      WriteFileAtomic(home.TokenFile(), RandomHex(32),
                      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  if (!status.ok()) throw CliError{kExitFailed, status.message()};
}

void WaitUntilUp(const PlatformClient& client, pid_t pid) {
  const auto log = client.home().LogDir() / "operator.log";
  for (int i = 0; i < 300; ++i) {
    if (client.OperatorUp()) return;
    if (auto exit = ReapIfExited(pid)) {
      throw CliError{kExitFailed, "the operator stopped at start (" + *exit + "). Its log (" +
                                      log.string() + ") ends with:\n" + TailFile(log, 10)};
    }
    std::this_thread::sleep_for(50ms);
  }
  throw CliError{kExitFailed, "the operator did not answer within 15 s; see " + log.string()};
}

// Asks the operator to stop everything and waits (up to 60 s) until it has exited.
void StopPlatform(const PlatformClient& client) {
  const pid_t pid = client.Call(bhttp::verb::get, "/v1/info").value("pid", 0);
  client.Call(bhttp::verb::post, "/v1/shutdown");
  for (int i = 0; i < 1200 && ProcessAlive(pid); ++i) std::this_thread::sleep_for(50ms);
  if (ProcessAlive(pid)) throw CliError{kExitFailed, "the operator is still running after 60 s"};
}

// The operator starts the gateway on its first reconcile pass. If the gateway cannot start
// (its port is taken, say), stops the operator again so that `up` leaves nothing behind.
void WaitForGateway(const PlatformClient& client) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (client.GatewayUp()) return;
    std::this_thread::sleep_for(50ms);
  }
  StopPlatform(client);
  const auto log = client.home().LogDir() / "gateway.log";
  const std::string why = "the gateway did not start on " + client.addresses().GatewayUrl() +
                          " (is a port in use? choose others with --gateway-port or --grpc-port)";
  throw CliError{kExitFailed,
                 why + ". Its log (" + log.string() + ") ends with:\n" + TailFile(log, 5)};
}

void Up(const UpFlags& flags) {
  const AxonHome home = AxonHome::FromEnvironment();
  if (PlatformClient existing(home); existing.OperatorUp()) {
    std::cout << "Axon is already up: gateway " << existing.addresses().GatewayUrl()
              << ", operator " << existing.addresses().operator_host << ":"
              << existing.addresses().operator_port << " (state in " << home.root.string() << ")\n";
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(home.LogDir(), ec);
  EnsureToken(home);
  (void)WriteFileAtomic(home.ConfigFile(), flags.addresses.ToJson().dump(2));
  const auto& a = flags.addresses;
  const std::pair<const char*, std::string> operator_flags[] = {
      {"--host", a.operator_host},
      {"--port", std::to_string(a.operator_port)},
      {"--gateway-host", a.gateway_host},
      {"--gateway-port", std::to_string(a.gateway_port)},
      {"--gateway-grpc-port", std::to_string(a.grpc_port)},
      {"--gateway-threads", std::to_string(flags.gateway_threads)},
      {"--max-body-bytes", std::to_string(flags.max_body_bytes)},
      {"--drain-ms", std::to_string(flags.drain_ms)},
      {"--request-timeout-ms", std::to_string(flags.request_timeout_ms)},
      {"--tick-ms", std::to_string(flags.tick_ms)},
      {"--autoscale-ms", std::to_string(flags.autoscale_ms)},
      {"--sample-ms", std::to_string(flags.sample_ms)},
      {"--hold-timeout-ms", std::to_string(flags.hold_timeout_ms)},
      {"--max-held", std::to_string(flags.max_held)},
  };
  std::vector<std::string> argv{(ExecutableDir() / "axon-operator").string()};
  for (const auto& [flag, value] : operator_flags) {
    argv.emplace_back(flag);
    argv.push_back(value);
  }
  auto pid = SpawnProcess({.argv = std::move(argv), .output_file = home.LogDir() / "operator.log"});
  if (!pid.ok()) throw CliError{kExitFailed, pid.status().message()};
  PlatformClient client(home);
  WaitUntilUp(client, *pid);
  WaitForGateway(client);
  const auto info = client.Call(bhttp::verb::get, "/v1/info");
  std::cout << "Axon is up.\n"
            << "  gateway:  " << a.GatewayUrl() << "\n"
            << "  gRPC:     "
            << (a.grpc_port != 0 ? a.gateway_host + ":" + std::to_string(a.grpc_port) : "off")
            << "\n"
            << "  operator: " << a.operator_host << ":" << a.operator_port << " (pid "
            << info.value("pid", 0) << ")\n"
            << "  state:    " << home.root.string() << "\n";
}

void Down() {
  PlatformClient client(AxonHome::FromEnvironment());
  if (!client.OperatorUp()) {
    std::cout << "Axon is not running.\n";
    return;
  }
  std::cout << "Draining and stopping replicas, gateway and operator..." << std::flush;
  StopPlatform(client);
  std::cout << " done. State is kept in " << client.home().root.string() << ".\n";
}

void Version() {
  std::cout << "axon " << AXON_VERSION << "\n";
  PlatformClient client(AxonHome::FromEnvironment());
  if (client.OperatorUp()) {
    std::cout << "operator " << client.Call(bhttp::verb::get, "/v1/info").value("version", "?")
              << "\n";
  }
}

}  // namespace

void AddPlatformCommands(CLI::App& app) {
  auto flags = std::make_shared<UpFlags>();
  auto* up =
      app.add_subcommand("up", "start the local platform (operator and gateway) in the background");
  up->add_option("--port", flags->addresses.operator_port, "operator (management API) port")
      ->capture_default_str();
  up->add_option("--host", flags->addresses.operator_host, "operator address")
      ->capture_default_str();
  up->add_option("--gateway-port", flags->addresses.gateway_port, "gateway (prediction) port")
      ->capture_default_str();
  up->add_option("--grpc-port", flags->addresses.grpc_port,
                 "gateway port for the Open Inference Protocol over gRPC (0 = none)")
      ->capture_default_str();
  up->add_option("--gateway-host", flags->addresses.gateway_host,
                 "gateway address (0.0.0.0 to serve other machines)")
      ->capture_default_str();
  up->add_option("--gateway-threads", flags->gateway_threads, "gateway I/O threads")
      ->capture_default_str();
  up->add_option("--max-body-bytes", flags->max_body_bytes, "largest request body (413 above)")
      ->capture_default_str();
  up->add_option("--drain-ms", flags->drain_ms, "how long stopping replicas may finish requests")
      ->capture_default_str();
  up->add_option("--request-timeout-ms", flags->request_timeout_ms,
                 "how long the gateway waits for a replica's answer (504 after)")
      ->capture_default_str();
  up->add_option("--autoscale-ms", flags->autoscale_ms,
                 "how often the autoscaler decides each API's replica count")
      ->capture_default_str();
  up->add_option("--sample-ms", flags->sample_ms,
                 "how often the gateway samples each API's in-flight requests")
      ->capture_default_str();
  up->add_option("--hold-timeout-ms", flags->hold_timeout_ms,
                 "how long the gateway holds a request while an API scales up from zero")
      ->capture_default_str();
  up->add_option("--max-held", flags->max_held,
                 "how many requests per API the gateway holds while it scales up from zero")
      ->capture_default_str();
  up->add_option("--tick-ms", flags->tick_ms, "reconcile period of the operator")
      ->capture_default_str();
  up->callback([flags] { Up(*flags); });

  app.add_subcommand("down", "drain and stop replicas, gateway and operator (state is kept)")
      ->callback(Down);
  app.add_subcommand("version", "print the CLI's and the operator's versions")->callback(Version);
}

}  // namespace axon::cli
