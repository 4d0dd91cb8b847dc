#include <signal.h>

#include "common/files.h"
#include "common/process.h"
#include "contract/flags.h"
#include "http/client.h"
#include "operator/replica_processes.h"

namespace axon::operator_ {

StatusOr<ReplicaHandle> ChildReplicaProcesses::Start(const ReplicaLaunch& launch) {
  std::error_code ec;
  std::filesystem::remove_all(launch.state_dir, ec);
  std::filesystem::create_directories(launch.state_dir, ec);
  std::filesystem::create_directories(launch.log_file.parent_path(), ec);
  // The gateway reaches local replicas over a Unix socket in the abstract namespace: cheaper
  // than loopback TCP, no file to clean up, and unique per start.
  const std::string socket = "@axon-" + RandomHex(8) + "-" + launch.replica_id;
  contract::ReplicaFlags flags;
  flags.spec_file = launch.spec_file.string();
  flags.replica_id = launch.replica_id;
  flags.unix_socket = socket;
  flags.port_file = (launch.state_dir / "port").string();
  flags.error_file = (launch.state_dir / "error").string();
  flags.drain_ms = launch.drain.count();
  flags.max_body_bytes = launch.max_body_bytes;
  std::vector<std::string> argv{replica_binary_.string()};
  for (auto& arg : contract::ToArgs(flags)) argv.push_back(std::move(arg));
  auto pid = SpawnProcess({.argv = std::move(argv),
                           .env = launch.env,
                           .output_file = launch.log_file,
                           .working_dir = launch.working_dir});
  if (!pid.ok()) return pid.status();
  return ReplicaHandle{*pid, ProcessStartTime(*pid).value_or(0), launch.state_dir, socket};
}

std::optional<std::string> ChildReplicaProcesses::CheckExited(const ReplicaHandle& replica) {
  return ReapIfExited(replica.pid, replica.start_time);
}

std::optional<uint16_t> ChildReplicaProcesses::Port(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "port");
  if (!text.ok()) return std::nullopt;
  try {
    const int port = std::stoi(*text);
    if (port > 0 && port < 65536) return static_cast<uint16_t>(port);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string ChildReplicaProcesses::FailureReason(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "error");
  return text.ok() ? *text : "";
}

bool ChildReplicaProcesses::Ready(const ReplicaHandle&, uint16_t port) {
  using namespace std::chrono_literals;
  auto res =
      http::Fetch("127.0.0.1", port, http::MakeRequest(http::bhttp::verb::get, "/healthz"), 300ms);
  return res.ok() && res->result_int() == 200;
}

// Signals only the process that was started (a recycled pid is someone else's).
void ChildReplicaProcesses::Stop(const ReplicaHandle& replica) {
  if (ProcessAlive(replica.pid, replica.start_time)) ::kill(replica.pid, SIGTERM);
}

void ChildReplicaProcesses::Kill(const ReplicaHandle& replica) {
  if (ProcessAlive(replica.pid, replica.start_time)) ::kill(replica.pid, SIGKILL);
}

}  // namespace axon::operator_
