#include <signal.h>

#include "common/files.h"
#include "common/process.h"
#include "operator/replica_backend.h"

namespace axon::operator_ {

StatusOr<ReplicaHandle> LocalProcessBackend::Start(const ReplicaLaunch& launch) {
  std::error_code ec;
  std::filesystem::remove_all(launch.state_dir, ec);
  std::filesystem::create_directories(launch.state_dir, ec);
  std::filesystem::create_directories(launch.log_file.parent_path(), ec);
  // The gateway reaches local replicas over a Unix socket in the abstract namespace: cheaper
  // than loopback TCP, no file to clean up, and unique per start.
  const std::string socket = "@axon-" + RandomHex(8) + "-" + launch.replica_id;
  ProcessOptions options{
      .argv = {replica_binary_.string(), "--spec", launch.spec_file.string(), "--replica-id",
               launch.replica_id, "--port-file", (launch.state_dir / "port").string(),
               "--error-file", (launch.state_dir / "error").string(), "--unix-socket", socket,
               "--drain-ms", std::to_string(launch.drain.count())},
      .env = launch.env,
      .output_file = launch.log_file,
      .working_dir = launch.working_dir,
  };
  auto pid = SpawnProcess(options);
  if (!pid.ok()) return pid.status();
  return ReplicaHandle{*pid, launch.state_dir, socket};
}

std::optional<std::string> LocalProcessBackend::CheckExited(const ReplicaHandle& replica) {
  return ReapIfExited(replica.pid);
}

std::optional<uint16_t> LocalProcessBackend::Port(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "port");
  if (!text.ok()) return std::nullopt;
  try {
    const int port = std::stoi(*text);
    if (port > 0 && port < 65536) return static_cast<uint16_t>(port);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string LocalProcessBackend::FailureReason(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "error");
  return text.ok() ? *text : "";
}

void LocalProcessBackend::Stop(const ReplicaHandle& replica) { ::kill(replica.pid, SIGTERM); }

void LocalProcessBackend::Kill(const ReplicaHandle& replica) { ::kill(replica.pid, SIGKILL); }

}  // namespace axon::operator_
