// Controller's sampling for the dashboard: SampleHistory() on the reconcile thread, History()
// for GET /v1/apis/NAME/history. The numbers are kept by ApiHistory (api_history.h).
#include <chrono>

#include "operator/controller.h"
#include "operator/proc_usage.h"

namespace axon::operator_ {

void Controller::SampleHistory(const contract::GatewayStats& stats) {
  const TimePoint now = clock_.Now();
  if (now < next_history_) return;
  next_history_ = now + options_.history_interval;
  // Before looking at apis_: an API begun later (ApiHistory::Begin) is kept by this pass.
  const int64_t unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::vector<ApiSample> samples;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, api] : apis_) {
      ApiSample& s = samples.emplace_back();
      s.api = name;
      const auto it = stats.apis.find(name);
      if (it != stats.apis.end()) s.stats = it->second;
      s.stats.samples.clear();
      if (!api.spec.RunsReplicas()) continue;  // a TrafficSplitter: no replicas of its own
      const ApiObservation observed = backend_.Observe(name);
      s.requested = api.requested;
      for (const auto& r : observed.replicas) {
        if (r.state == ReplicaState::kReady) ++s.ready;
        s.replicas.push_back({.id = r.id, .pid = r.pid, .usage = std::nullopt});
      }
    }
  }
  // /proc reads, without the lock.
  for (auto& s : samples) {
    for (auto& r : s.replicas) {
      if (r.pid <= 0) continue;
      auto usage = ReadProcUsage(r.pid);
      if (usage.ok()) r.usage = *usage;
    }
  }
  history_.Record(unix_ms, samples);
}

StatusOr<nlohmann::json> Controller::History(const std::string& name) const {
  {
    std::lock_guard lock(mu_);
    if (!apis_.contains(name)) return NotFound("no api named " + name + " (see `axon get`)");
  }
  return history_.Json(name, options_.history_interval.count());
}

}  // namespace axon::operator_
