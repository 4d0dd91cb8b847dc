// What an API's replica pods say, in the terms of ApiBackend: each pod as a ReplicaStatus
// (ready, starting, waiting to restart, stopping; its address, restarts and last failure from
// the pod's conditions and container statuses, including the termination message the replica
// wrote to /dev/termination-log), and the API's error from pods that cannot start. Pure
// functions of the pods' JSON, as the API server serves them; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api_backend.h"

namespace axon::operator_ {

// Set on an API's pod template by `axon refresh` (a new value rolls every pod over).
inline constexpr char kRestartedAtAnnotation[] = "axon.dev/restarted-at";

struct PodTarget {
  int64_t version = 0;
  std::string restarted_at;      // the pod template's annotation ("" = any)
  int crash_loop_threshold = 3;  // restarts without getting ready that mean "error"
};

ReplicaStatus ReplicaFromPod(const nlohmann::json& pod, const PodTarget& target);

// Every pod of one API; error and start_failing from current pods that cannot get ready.
ApiObservation ObservePods(const std::vector<nlohmann::json>& pods, const PodTarget& target);

}  // namespace axon::operator_
