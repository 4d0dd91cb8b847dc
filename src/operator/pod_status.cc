#include "operator/pod_status.h"

#include <set>

#include "kube/manifests.h"

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;

// Waiting reasons that do not go away without a change (or a long wait).
const std::set<std::string>& StuckReasons() {
  static const std::set<std::string> kReasons = {
      "CrashLoopBackOff",     "ErrImagePull",     "ImagePullBackOff",
      "ErrImageNeverPull",    "InvalidImageName", "CreateContainerConfigError",
      "CreateContainerError", "RunContainerError"};
  return kReasons;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool Condition(const Json& status, const std::string& type, Json* found = nullptr) {
  for (const auto& c : status.value("conditions", Json::array())) {
    if (Str(c, "type") != type) continue;
    if (found != nullptr) *found = c;
    return Str(c, "status") == "True";
  }
  return false;
}

// "exit code 78: <message>" for a terminated state; "" when `state` is not terminated.
std::string Terminated(const Json& state) {
  auto it = state.find("terminated");
  if (it == state.end() || !it->is_object()) return "";
  std::string message = Str(*it, "message");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string out = Str(*it, "reason");
  out += " (exit code " + std::to_string(Int(*it, "exitCode")) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace

ReplicaStatus ReplicaFromPod(const Json& pod, const PodTarget& target) {
  const Json& meta = pod.value("metadata", Json::object());
  const Json& status = pod.value("status", Json::object());
  const Json labels = meta.value("labels", Json::object());
  const Json annotations = meta.value("annotations", Json::object());
  ReplicaStatus r;
  r.id = Str(meta, "name");
  try {
    r.version = std::stoll(Str(labels, kube::kVersionLabel));
  } catch (const std::exception&) {
    r.version = 0;
  }
  r.current = r.version == target.version &&
              (target.restarted_at.empty() ||
               Str(annotations, kRestartedAtAnnotation) == target.restarted_at);
  r.host = Str(status, "podIP");
  r.port = kube::kReplicaPort;  // unless the pod's replica container names another (a user's
                                // server on its own fixed port)
  for (const auto& c : pod.value("spec", Json::object()).value("containers", Json::array())) {
    if (Str(c, "name") != kube::kReplicaContainer) continue;
    for (const auto& p : c.value("ports", Json::array())) {
      if (Str(p, "name") == "http" && Int(p, "containerPort") > 0 &&
          Int(p, "containerPort") < 65536) {
        r.port = static_cast<uint16_t>(Int(p, "containerPort"));
      }
    }
  }
  const std::string phase = Str(status, "phase");
  Json container = Json::object();
  for (const auto& c : status.value("containerStatuses", Json::array())) {
    if (Str(c, "name") == kube::kReplicaContainer) container = c;
  }
  r.restarts = static_cast<int>(Int(container, "restartCount"));
  const Json state = container.value("state", Json::object());
  const Json waiting = state.value("waiting", Json::object());
  r.last_failure = Terminated(state);
  if (r.last_failure.empty())
    r.last_failure = Terminated(container.value("lastState", Json::object()));
  if (!Str(waiting, "reason").empty() && Str(waiting, "reason") != "ContainerCreating") {
    const std::string reason = Str(waiting, "reason") + ": " + Str(waiting, "message");
    r.last_failure = r.last_failure.empty() ? reason : reason + "\n" + r.last_failure;
  }
  Json scheduled;
  if (!Condition(status, "PodScheduled", &scheduled) && !scheduled.is_null() &&
      Str(scheduled, "reason") == "Unschedulable") {
    r.last_failure = "Unschedulable: " + Str(scheduled, "message");
  }
  if (meta.contains("deletionTimestamp") || phase == "Succeeded" || phase == "Failed") {
    r.state = ReplicaState::kStopping;
  } else if (Condition(status, "Ready")) {
    r.state = ReplicaState::kReady;
  } else if (state.contains("terminated") || StuckReasons().contains(Str(waiting, "reason"))) {
    r.state = ReplicaState::kWaitingRestart;
  } else {
    r.state = ReplicaState::kStarting;
  }
  return r;
}

ApiObservation ObservePods(const std::vector<Json>& pods, const PodTarget& target) {
  ApiObservation out;
  for (const Json& pod : pods) {
    ReplicaStatus r = ReplicaFromPod(pod, target);
    const Json& status = pod.value("status", Json::object());
    bool stuck = false;
    for (const auto& c : status.value("containerStatuses", Json::array())) {
      const std::string reason =
          Str(c.value("state", Json::object()).value("waiting", Json::object()), "reason");
      if (reason != "CrashLoopBackOff" && StuckReasons().contains(reason)) stuck = true;
    }
    // Failing before it ever got ready: a predictor that cannot load (exit code 78, its
    // reason in the termination message), a crash loop, an image that cannot be pulled.
    const bool failing = r.current && r.state != ReplicaState::kReady &&
                         r.state != ReplicaState::kStopping &&
                         (stuck || r.restarts >= target.crash_loop_threshold ||
                          r.last_failure.find("(exit code 78)") != std::string::npos);
    if (failing && out.error.empty()) {
      out.error = "replica " + r.id + " cannot start: " + r.last_failure;
      out.start_failing = true;
    }
    out.replicas.push_back(std::move(r));
  }
  if (out.ReadyCurrent() > 0) {  // serving: a failing pod beside ready ones is not the API's error
    out.error.clear();
    out.start_failing = false;
  }
  return out;
}

}  // namespace axon::operator_
