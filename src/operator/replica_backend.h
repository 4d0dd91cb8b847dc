// The seam between the control plane and whatever runs replicas. Local mode runs them as
// child processes (LocalProcessBackend); a Kubernetes backend would create pods instead.
//
// Threading: called from the operator's reconcile thread only.
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
  std::filesystem::path working_dir;        // the predictor's folder
  std::chrono::milliseconds drain{30'000};  // how long it may finish requests after SIGTERM
  std::map<std::string, std::string> env;
};

struct ReplicaHandle {
  pid_t pid = 0;
  std::filesystem::path state_dir;
  std::string socket;  // the Unix socket the gateway should use ("@name"), or "" for TCP
};

class ReplicaBackend {
 public:
  virtual ~ReplicaBackend() = default;
  virtual StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) = 0;
  // nullopt while the replica runs; how it ended once it has ("exit code 1").
  virtual std::optional<std::string> CheckExited(const ReplicaHandle& replica) = 0;
  // The port the replica listens on, once it has bound one.
  virtual std::optional<uint16_t> Port(const ReplicaHandle& replica) = 0;
  // Why the predictor could not be loaded, if the replica said so; else "".
  virtual std::string FailureReason(const ReplicaHandle& replica) = 0;
  // Asks the replica to drain and exit (SIGTERM). Returns at once.
  virtual void Stop(const ReplicaHandle& replica) = 0;
  // Ends the replica now (SIGKILL). Returns at once.
  virtual void Kill(const ReplicaHandle& replica) = 0;
};

// Replicas as child processes of the operator, running `replica_binary`.
class LocalProcessBackend final : public ReplicaBackend {
 public:
  explicit LocalProcessBackend(std::filesystem::path replica_binary)
      : replica_binary_(std::move(replica_binary)) {}
  StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) override;
  std::optional<std::string> CheckExited(const ReplicaHandle& replica) override;
  std::optional<uint16_t> Port(const ReplicaHandle& replica) override;
  std::string FailureReason(const ReplicaHandle& replica) override;
  void Stop(const ReplicaHandle& replica) override;
  void Kill(const ReplicaHandle& replica) override;

 private:
  const std::filesystem::path replica_binary_;
};

}  // namespace axon::operator_
