// Starting and signalling replica processes, for LocalBackend. An interface so that the
// rollout, restart and timeout logic can be tested with fake processes and a fake clock.
//
// Threading: called from the operator's reconcile thread only (LocalBackend's contract).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace axon::operator_ {

struct ReplicaLaunch {
  std::string api;
  std::string replica_id;
  std::filesystem::path spec_file;          // the API spec (JSON) the replica serves
  std::filesystem::path state_dir;          // the replica writes its port and failure reason here
  std::filesystem::path log_file;           // stdout and stderr are appended here
  std::filesystem::path working_dir;        // the predictor's folder (its bundle)
  std::chrono::milliseconds drain{30'000};  // how long it may finish requests after SIGTERM
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  std::map<std::string, std::string> env;
};

struct ReplicaHandle {
  pid_t pid = 0;
  uint64_t start_time = 0;  // with pid, names the process for good (a pid may be recycled)
  std::filesystem::path state_dir;
  std::string socket;  // the Unix socket the gateway should use ("@name"), or "" for TCP
};

class ReplicaProcesses {
 public:
  virtual ~ReplicaProcesses() = default;
  virtual StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) = 0;
  // nullopt while the replica runs; how it ended once it has ("exit code 1").
  virtual std::optional<std::string> CheckExited(const ReplicaHandle& replica) = 0;
  // The port the replica listens on, once it has bound one.
  virtual std::optional<uint16_t> Port(const ReplicaHandle& replica) = 0;
  // Why the predictor could not be loaded, if the replica said so; else "".
  virtual std::string FailureReason(const ReplicaHandle& replica) = 0;
  // True when the replica answers its readiness probe (GET /healthz). May block briefly.
  virtual bool Ready(const ReplicaHandle& replica, uint16_t port) = 0;
  // Asks the replica to drain and exit (SIGTERM). Returns at once.
  virtual void Stop(const ReplicaHandle& replica) = 0;
  // Ends the replica now (SIGKILL). Returns at once.
  virtual void Kill(const ReplicaHandle& replica) = 0;
};

// Replicas as child processes of the operator, running `replica_binary`.
class ChildReplicaProcesses final : public ReplicaProcesses {
 public:
  explicit ChildReplicaProcesses(std::filesystem::path replica_binary)
      : replica_binary_(std::move(replica_binary)) {}
  StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) override;
  std::optional<std::string> CheckExited(const ReplicaHandle& replica) override;
  std::optional<uint16_t> Port(const ReplicaHandle& replica) override;
  std::string FailureReason(const ReplicaHandle& replica) override;
  bool Ready(const ReplicaHandle& replica, uint16_t port) override;
  void Stop(const ReplicaHandle& replica) override;
  void Kill(const ReplicaHandle& replica) override;

 private:
  const std::filesystem::path replica_binary_;
};

}  // namespace axon::operator_
