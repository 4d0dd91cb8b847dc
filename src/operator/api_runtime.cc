#include "operator/api_runtime.h"

#include <algorithm>

namespace axon::operator_ {

const char* PhaseName(ReplicaPhase phase) {
  switch (phase) {
    case ReplicaPhase::kStarting:
      return "starting";
    case ReplicaPhase::kReady:
      return "ready";
    case ReplicaPhase::kWaitingRestart:
      return "waiting_restart";
    case ReplicaPhase::kStopping:
      return "stopping";
  }
  return "unknown";
}

int64_t ApiRuntime::ReadyUpToDate() const {
  return std::count_if(replicas.begin(), replicas.end(), [this](const ReplicaSlot& r) {
    return r.revision == revision && r.phase == ReplicaPhase::kReady;
  });
}

int64_t ApiRuntime::UpToDate() const {
  return std::count_if(replicas.begin(), replicas.end(),
                       [this](const ReplicaSlot& r) { return r.revision == revision; });
}

std::string ApiRuntime::Status() const {
  if (!error.empty()) return "error";
  return ReadyUpToDate() >= Requested() && UpToDate() == static_cast<int64_t>(replicas.size())
             ? "live"
             : "updating";
}

}  // namespace axon::operator_
