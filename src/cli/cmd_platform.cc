// axon up | down | dashboard
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "cli/cli_envs.h"
#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/files.h"
#include "common/home_lock.h"
#include "common/install_layout.h"
#include "common/port_owner.h"
#include "common/process.h"
#include "contract/flags.h"
#include "http/client.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

struct UpFlags {
  contract::OperatorFlags op;
  std::string tls_ca;  // what the CLI trusts for the platform's certificate
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

// Why `port` cannot be used by this platform, or "" if nothing listens there. Names the Axon
// platform (its AXON_HOME) when another one holds it.
std::string PortProblem(const AxonHome& home, const char* what, const std::string& host,
                        uint16_t port, const char* flag) {
  const auto owner = FindPortOwner(port);
  // A gateway this platform left running (its operator was killed): the operator adopts it.
  if (owner && owner->axon_home == std::filesystem::absolute(home.root).string()) return "";
  if (!owner) {
    auto res = http::Fetch(host == "0.0.0.0" ? "127.0.0.1" : host, port,
                           http::MakeRequest(bhttp::verb::get, "/"), 300ms);
    if (!res.ok()) return "";  // nothing answers (and nothing visible listens)
  }
  std::string who = owner ? DescribePortOwner(port) : "a process this user cannot see";
  std::string fix = "choose another port with " + std::string(flag);
  if (owner && !owner->axon_home.empty()) {
    who = "the Axon platform of AXON_HOME=" + owner->axon_home + " (" + owner->command + ", pid " +
          std::to_string(owner->pid) + ")";
    fix = "stop it with `AXON_HOME=" + owner->axon_home + " axon down`, or " + fix;
  }
  return "the " + std::string(what) + " port " + std::to_string(port) + " is in use by " + who +
         "; " + fix;
}

std::string Absolute(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
}

// The operator that holds AXON_HOME's lock, once it answers; "" once none holds it. An operator
// that was just killed keeps the lock until its last thread has exited (after its main thread
// shows as gone), and one that is starting answers a moment after it takes the lock: either is
// waited for, up to kSettle.
std::string SettledHolder(const AxonHome& home, PlatformClient& existing) {
  constexpr auto kSettle = std::chrono::seconds(3);
  const auto deadline = std::chrono::steady_clock::now() + kSettle;
  std::string holder = HomeLock::Holder(home);
  while (!holder.empty() && !existing.OperatorUp() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    holder = HomeLock::Holder(home);
  }
  return holder;
}

void Up(UpFlags flags) {
  const AxonHome home = AxonHome::FromEnvironment();
  PlatformClient existing(home, kLocalEnv);
  if (const std::string holder = SettledHolder(home, existing); !holder.empty()) {
    if (!existing.OperatorUp()) {
      throw CliError{kExitFailed, "an Axon operator holds AXON_HOME=" + home.root.string() + " (" +
                                      holder + ") but does not answer at " +
                                      existing.addresses().OperatorPeer().Describe() +
                                      "; it may be starting or stopping: try again, or stop it"};
    }
    std::cout << "Axon is already up: gateway " << existing.addresses().GatewayUrl()
              << ", operator " << existing.addresses().OperatorPeer().Describe() << " (state in "
              << home.root.string() << ")\n"
              << "dashboard: " << existing.DashboardUrl() << "\n";
    return;
  }
  auto& op = flags.op;
  for (const auto& problem :
       {PortProblem(home, "operator", op.host, op.port, "--port"),
        PortProblem(home, "gateway", op.gateway_host, op.gateway_port, "--gateway-port"),
        op.grpc_port == 0
            ? std::string()
            : PortProblem(home, "gateway gRPC", op.gateway_host, op.grpc_port, "--grpc-port")}) {
    if (!problem.empty()) throw CliError{kExitFailed, problem};
  }
  op.tls_cert = Absolute(op.tls_cert);
  op.tls_key = Absolute(op.tls_key);
  op.kubeconfig = Absolute(op.kubeconfig);
  if (op.tls_cert.empty() != op.tls_key.empty()) {
    throw CliError{kExitBadInput, "--tls-cert and --tls-key go together"};
  }
  std::error_code ec;
  std::filesystem::create_directories(home.LogDir(), ec);
  EnsureToken(home);
  PlatformAddresses addresses{
      .operator_host = op.host,
      .operator_port = op.port,
      .gateway_host = op.gateway_host,
      .gateway_port = op.gateway_port,
      .grpc_port = op.grpc_port,
      .tls = !op.tls_cert.empty(),
      .ca_file =
          op.tls_cert.empty() ? "" : (flags.tls_ca.empty() ? op.tls_cert : Absolute(flags.tls_ca))};
  if (Status s = WriteFileAtomic(home.ConfigFile(), addresses.ToJson().dump(2)); !s.ok()) {
    throw CliError{kExitFailed, s.message()};
  }
  auto operator_binary = ProgramPath("axon-operator");
  if (!operator_binary.ok()) throw CliError{kExitFailed, operator_binary.status().message()};
  std::vector<std::string> argv{operator_binary->string()};
  for (auto& arg : contract::ToArgs(op)) argv.push_back(std::move(arg));
  // The operator and everything it starts name their platform in their environment.
  auto pid = SpawnProcess({.argv = std::move(argv),
                           .env = {{"AXON_HOME", std::filesystem::absolute(home.root).string()}},
                           .output_file = home.LogDir() / "operator.log"});
  if (!pid.ok()) throw CliError{kExitFailed, pid.status().message()};
  PlatformClient client(home, kLocalEnv);
  WaitUntilUp(client, *pid);
  WaitForGateway(client);
  const auto info = client.Call(bhttp::verb::get, "/v1/info");
  std::cout << "Axon is up.\n"
            << "  gateway:  " << addresses.GatewayUrl() << "\n"
            << "  gRPC:     "
            << (op.grpc_port != 0 ? op.gateway_host + ":" + std::to_string(op.grpc_port) : "off")
            << "\n"
            << "  operator: " << addresses.OperatorPeer().Describe() << " (pid "
            << info.value("pid", 0) << ")\n"
            << "  state:    " << home.root.string() << "\n"
            << "dashboard: " << client.DashboardUrl() << "\n";
}

void Dashboard() {
  PlatformClient client(AxonHome::FromEnvironment());
  if (!client.OperatorUp()) {
    throw CliError{kExitNotRunning, "the Axon operator is not running at " +
                                        client.addresses().OperatorPeer().Describe() +
                                        "; start it with `axon up`"};
  }
  std::cout << "dashboard: " << client.DashboardUrl() << "\n";
}

void Down() {
  PlatformClient client(AxonHome::FromEnvironment(), kLocalEnv);
  if (!client.OperatorUp()) {
    std::cout << "Axon is not running.\n";
    return;
  }
  std::cout << "Draining and stopping replicas, gateway and operator..." << std::flush;
  StopPlatform(client);
  std::cout << " done. State is kept in " << client.home().root.string() << ".\n";
}

}  // namespace

void AddPlatformCommands(CLI::App& app) {
  auto flags = std::make_shared<UpFlags>();
  auto* up = app.add_subcommand(
      "up", "start the local platform (operator and gateway) in the background: the env `local`");
  contract::Register(*up, flags->op);
  up->add_option("--tls-ca", flags->tls_ca,
                 "CA certificate the CLI verifies the platform with (default: --tls-cert, for a "
                 "self-signed certificate)");
  up->callback([flags] { Up(*flags); });

  app.add_subcommand(
         "down",
         "drain and stop the local platform's replicas, gateway and operator (state is kept)")
      ->callback(Down);

  app.add_subcommand("dashboard",
                     "print the link that opens the web dashboard, signed in (it holds the "
                     "platform token: share it as you would the token)")
      ->callback(Dashboard);
}

}  // namespace axon::cli
