// Controller::Metrics(): the platform's Prometheus metrics in one scrape (GET /metrics on the
// management API): the operator's own (replicas by state, desired replicas, restarts), the
// gateway's (GET /_axon/metrics) and every replica's (GET /metrics). The list is in
// docs/observability.md.
#include <chrono>

#include "common/exposition.h"
#include "http/client.h"
#include "operator/controller.h"
#include "operator/replica_scrape.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

constexpr ReplicaState kStates[] = {ReplicaState::kStarting, ReplicaState::kReady,
                                    ReplicaState::kWaitingRestart, ReplicaState::kStopping};
// A replica that does not answer within this is left out of the scrape.
constexpr auto kReplicaScrapeTimeout = 500ms;

}  // namespace

std::string Controller::Metrics() const {
  std::vector<http::Peer> replicas;  // where to fetch each replica's metrics
  Exposition own;
  {
    std::lock_guard lock(mu_);
    std::vector<std::pair<const ApiRuntime*, ApiObservation>> observed;
    for (const auto& [name, api] : apis_) {
      if (api.spec.RunsReplicas()) observed.emplace_back(&api, backend_.Observe(name));
    }
    own.Family("axon_replicas", "gauge", "Replicas of an API by state.");
    for (const auto& [api, o] : observed) {
      for (ReplicaState state : kStates) {
        int64_t n = 0;
        for (const auto& r : o.replicas) n += r.state == state ? 1 : 0;
        own.Sample("axon_replicas", {{"api", api->spec.name}, {"state", ReplicaStateName(state)}},
                   static_cast<double>(n));
      }
    }
    own.Family("axon_desired_replicas", "gauge",
               "Replicas an API wants now (init_replicas, then the autoscaler's decision).");
    for (const auto& [api, o] : observed) {
      own.Sample("axon_desired_replicas", {{"api", api->spec.name}},
                 static_cast<double>(api->requested));
    }
    own.Family("axon_replica_restarts_total", "counter",
               "Times the operator restarted a replica (it crashed, failed to load or timed out).");
    for (const auto& [api, o] : observed) {
      for (const auto& r : o.replicas) {
        own.Sample("axon_replica_restarts_total", {{"api", api->spec.name}, {"replica", r.id}},
                   static_cast<double>(r.restarts));
        if (auto peer = ReplicaPeer(r)) replicas.push_back(std::move(*peer));
      }
    }
  }
  // Network I/O from here on, without the lock.
  std::vector<std::string> texts{own.Take(), gateway_.Metrics()};
  for (auto& text : FetchFromReplicas(replicas, "/metrics", kReplicaScrapeTimeout)) {
    if (!text.empty()) texts.push_back(std::move(text));
  }
  return MergeExpositions(texts);
}

}  // namespace axon::operator_
