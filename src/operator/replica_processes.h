// Starting and signalling replica processes, for LocalBackend. An interface so that the
// rollout, restart and timeout logic can be tested with fake processes and a fake clock.
//
// Standby replicas (contract/standby.h): a process that has loaded a native runtime before any
// replica needs it, and becomes the next replica whose launch has that runtime and the same
// environment. Loading libtorch is most of a native replica's start; a standby takes it out of
// scaling up (from zero above all).
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
#include <vector>

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
  std::map<std::string, std::string> env;          // the same for every replica of the API
  std::map<std::string, std::string> replica_env;  // names this one (AXON_REPLICA_ID, ...)
  // The native runtime the predictor loads (torchscript, onnx, xgboost); "" for Python and
  // commands. A standby with this runtime and this `env` can become the replica.
  std::string runtime;
};

// A standby replica to keep: started with `env`, the native `runtime` loaded.
struct StandbySpec {
  std::string runtime;
  std::map<std::string, std::string> env;
  auto operator<=>(const StandbySpec&) const = default;
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
  // Keeps one standby for each of `wanted` and ends the others. Starts a missing one only when
  // `start_missing` (false while a replica starts, so that loading a runtime in advance never
  // takes CPU from a start under way). Start() uses a matching standby when there is one.
  // The default keeps none.
  virtual void KeepStandbys(const std::vector<StandbySpec>& wanted, bool start_missing) {
    (void)wanted;
    (void)start_missing;
  }
};

// Replicas as child processes of the operator, running `replica_binary`. A standby is
// `replica_binary --standby RUNTIME` with its stdin on a pipe whose other end this object
// keeps: the assignment is written there, and a standby whose pipe closes (this object is
// destroyed, the operator dies) exits. Standbys log to `standby_log` until assigned; one that
// exits unused is started again after a minute at the earliest.
class ChildReplicaProcesses final : public ReplicaProcesses {
 public:
  ChildReplicaProcesses(std::filesystem::path replica_binary, std::filesystem::path standby_log)
      : replica_binary_(std::move(replica_binary)), standby_log_(std::move(standby_log)) {}
  ~ChildReplicaProcesses() override;  // ends the standbys
  ChildReplicaProcesses(const ChildReplicaProcesses&) = delete;
  ChildReplicaProcesses& operator=(const ChildReplicaProcesses&) = delete;

  StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) override;
  std::optional<std::string> CheckExited(const ReplicaHandle& replica) override;
  std::optional<uint16_t> Port(const ReplicaHandle& replica) override;
  std::string FailureReason(const ReplicaHandle& replica) override;
  bool Ready(const ReplicaHandle& replica, uint16_t port) override;
  void Stop(const ReplicaHandle& replica) override;
  void Kill(const ReplicaHandle& replica) override;
  void KeepStandbys(const std::vector<StandbySpec>& wanted, bool start_missing) override;

 private:
  struct Standby {
    StandbySpec spec;
    pid_t pid = 0;
    uint64_t start_time = 0;
    int pipe = -1;  // the write end of its stdin
  };
  void StartStandby(const StandbySpec& spec);
  static void End(Standby& standby);  // SIGKILL, reaped

  const std::filesystem::path replica_binary_;
  const std::filesystem::path standby_log_;
  std::vector<Standby> standbys_;
  std::map<StandbySpec, std::chrono::steady_clock::time_point> retry_after_;
};

}  // namespace axon::operator_
