// Controller::Autoscale: the gateway's in-flight samples in, each API's replica count out.
#include <spdlog/spdlog.h>

#include "operator/controller.h"

namespace axon::operator_ {

void Controller::Autoscale(const contract::GatewayStats& stats) {
  const auto unix_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  for (auto& [name, api] : apis_) {
    const auto it = stats.apis.find(name);
    if (it == stats.apis.end() || !api.spec.ScalesReplicas()) continue;
    bool demand = false;
    for (const auto& sample : it->second.samples) {
      api.autoscaler->AddSample(now - std::chrono::milliseconds(unix_now - sample.unix_ms),
                                static_cast<double>(sample.in_flight));
      samples_seen_unix_ms_ = std::max(samples_seen_unix_ms_, sample.unix_ms);
      demand = demand || sample.in_flight > 0;
    }
    // Requests are held for an API at zero replicas: start one now, not at the next decision.
    demand = demand || it->second.queued > 0;
    if (api.requested == 0 && demand && api.spec.autoscaling.max_replicas > 0) {
      api.requested = 1;
      api.last_scaling = "0 -> 1 replicas: a request is waiting";
      spdlog::info("autoscaler: api {}: {}", name, api.last_scaling);
    }
  }
  if (now < next_autoscale_) return;
  next_autoscale_ = now + options_.autoscale_interval;
  for (auto& [name, api] : apis_) {
    if (!api.spec.ScalesReplicas()) continue;  // a splitter: its APIs scale; jobs: per job
    const auto it = stats.apis.find(name);
    const int64_t held = it != stats.apis.end() ? it->second.queued : 0;
    ScalingDecision decision = api.autoscaler->Decide(now, api.requested, held);
    if (decision.desired != api.requested) {
      spdlog::info("autoscaler: api {}: {}", name, decision.reason);
      api.requested = decision.desired;
    }
    api.last_scaling = std::move(decision.reason);
  }
}

}  // namespace axon::operator_
