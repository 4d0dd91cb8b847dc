// The controller's side of AsyncAPIs, BatchAPIs and TaskAPIs: what the async listener and the
// dispatcher need to know of each, an AsyncAPI's demand for the autoscaler (its queue), and
// their routes (the async listener).
#include <spdlog/spdlog.h>

#include "operator/controller.h"

namespace axon::operator_ {

AsyncApiView Controller::AsyncViewLocked(const std::string& name, const ApiRuntime& api) const {
  AsyncApiView view{.name = name,
                    .version = api.version,
                    .queue = api.spec.queue,
                    .timeout = api.spec.networking.timeout.count() > 0 ? api.spec.networking.timeout
                                                                       : options_.request_timeout,
                    .per_replica = std::max(1, api.spec.predictor.threads_per_process),
                    .queue_name = name};
  ApiObservation observed = backend_.Observe(name);
  for (auto& r : observed.replicas) {
    if (r.state == ReplicaState::kReady) view.ready.push_back(std::move(r));
  }
  return view;
}

std::optional<AsyncApiView> Controller::AsyncApi(const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto it = apis_.find(name);
  if (it == apis_.end() || !it->second.spec.IsAsync()) return std::nullopt;
  return AsyncViewLocked(name, it->second);
}

std::vector<AsyncApiView> Controller::AsyncApis() const {
  std::lock_guard lock(mu_);
  std::vector<AsyncApiView> out;
  for (const auto& [name, api] : apis_) {
    if (api.spec.IsAsync()) out.push_back(AsyncViewLocked(name, api));
  }
  return out;
}

std::optional<ApiTarget> Controller::JobApi(const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto it = apis_.find(name);
  if (it == apis_.end() || !it->second.spec.RunsJobs()) return std::nullopt;
  return it->second.Target();
}

void Controller::AddQueueDemand(contract::GatewayStats& stats) const {
  if (options_.work_queue == nullptr) return;
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, api] : apis_) {
      if (api.spec.IsAsync()) names.push_back(name);
    }
  }
  const int64_t unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  for (const auto& name : names) {
    auto counts = options_.work_queue->Counts(name);
    if (!counts.ok()) {
      spdlog::warn("api {}: cannot count its queue: {}", name, counts.status().message());
      continue;
    }
    contract::ApiStats& api = stats.apis[name];
    api.in_flight = counts->in_queue + counts->in_progress;
    api.queued = counts->in_queue;
    api.samples = {{.unix_ms = unix_ms, .in_flight = api.in_flight}};
  }
}

void Controller::SetAsyncRouteLocked(const ApiRuntime& api, contract::ApiRoute* route) const {
  route->async = true;
  route->jobs = api.spec.RunsJobs();
  route->start_failing = false;  // the listener takes requests whatever the replicas do
  if (options_.async_listener.empty()) return;
  route->replicas.push_back({.id = "operator",
                             .version = api.version,
                             .host = "127.0.0.1",
                             .port = 0,
                             .socket = options_.async_listener});
}

}  // namespace axon::operator_
