// What the operator knows about one API at run time: its current spec and the replica slots
// that serve it. Plain data owned by Controller (guarded by its mutex).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "operator/autoscaler.h"
#include "operator/replica_backend.h"
#include "spec/api_spec.h"

namespace axon::operator_ {

enum class ReplicaPhase {
  kStarting,        // process started, predictor loading
  kReady,           // answering /healthz: in the route table
  kWaitingRestart,  // crashed; restarts at restart_at
  kStopping,        // draining after SIGTERM; killed at stop_deadline
};

const char* PhaseName(ReplicaPhase phase);

// One replica slot: like a pod, it keeps its id across process restarts.
struct ReplicaSlot {
  std::string id;
  std::string api;
  int64_t revision = 0;  // the ApiRuntime::revision it was started for
  int64_t version = 0;   // the API version it serves
  ReplicaPhase phase = ReplicaPhase::kStarting;
  ReplicaHandle handle;
  uint16_t port = 0;
  int restarts = 0;
  int consecutive_failures = 0;
  bool predictor_failed = false;  // the last exit was a predictor that could not load
  std::string last_failure;       // why it last died
  TimePoint started_at{};
  TimePoint ready_at{};
  TimePoint restart_at{};
  TimePoint stop_requested_at{};
  TimePoint stop_deadline{};  // zero until SIGTERM is sent
};

struct ApiRuntime {
  spec::ApiSpec spec;
  int64_t version = 0;              // from the state store
  int64_t revision = 0;             // bumped by every new version and by `axon refresh`
  int64_t updated_at = 0;           // unix seconds
  std::filesystem::path spec_file;  // the spec as JSON, for the replicas
  std::string error;                // non-empty: why the API is in status "error"
  int64_t requested = 1;            // replicas wanted now: init_replicas, then the autoscaler's
  std::unique_ptr<Autoscaler> autoscaler;
  std::string last_scaling;  // the autoscaler's last decision and why
  std::vector<ReplicaSlot> replicas;
  int next_replica_number = 0;

  int64_t Requested() const { return requested; }
  int64_t ReadyUpToDate() const;
  int64_t UpToDate() const;    // slots of the current revision, whatever their phase
  std::string Status() const;  // live | updating | error
};

}  // namespace axon::operator_
