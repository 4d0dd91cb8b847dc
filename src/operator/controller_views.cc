// Controller's read-only views: the `axon get`, `describe` and `logs` answers.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>

#include "common/files.h"
#include "common/text.h"
#include "contract/replica_stats.h"
#include "operator/controller.h"
#include "operator/job_names.h"
#include "operator/replica_scrape.h"
#include "operator/splitters.h"

namespace axon::operator_ {
namespace {

// Statistics without in-flight samples (the views do not need them).
constexpr int64_t kNoSamples = std::numeric_limits<int64_t>::max();

// A replica that does not answer within this is left out of `describe`'s batching figures.
constexpr auto kReplicaStatsTimeout = std::chrono::milliseconds(500);

// The mean of the observations divided by `unit`, or null without any.
nlohmann::json Mean(const HistogramSnapshot& h, double unit) {
  const uint64_t n = h.Count();
  if (n == 0) return nullptr;
  return static_cast<double>(h.sum) / static_cast<double>(n) / unit;
}

nlohmann::json Quantile(const HistogramSnapshot& h, double q, double unit) {
  const double value = h.Quantile(q);
  return value < 0 ? nlohmann::json(nullptr) : nlohmann::json(value / unit);
}

// `axon describe`'s batching figures: over every batch the API's ready replicas ran since they
// started (quantiles interpolated inside histogram buckets, as Prometheus does).
nlohmann::json BatchingJson(const contract::ReplicaStats& total, int reporting) {
  return {{"replicas_reporting", reporting},
          {"batches", total.batch_size.Count()},
          {"requests", total.queue_wait_us.Count()},
          {"mean_batch_size", Mean(total.batch_size, 1)},
          {"p50_batch_size", Quantile(total.batch_size, 0.5, 1)},
          {"p99_batch_size", Quantile(total.batch_size, 0.99, 1)},
          {"mean_queue_wait_ms", Mean(total.queue_wait_us, 1000)},
          {"p50_queue_wait_ms", Quantile(total.queue_wait_us, 0.5, 1000)},
          {"p99_queue_wait_ms", Quantile(total.queue_wait_us, 0.99, 1000)}};
}

}  // namespace

nlohmann::json Controller::SummaryLocked(const ApiRuntime& api, const ApiObservation& observed,
                                         const contract::GatewayStats& stats) const {
  const auto it = stats.apis.find(api.spec.name);
  const contract::ApiStats s = it != stats.apis.end() ? it->second : contract::ApiStats{};
  const uint64_t total = s.responses_2xx + s.responses_4xx + s.responses_5xx;
  const auto [status, reason] = StatusLocked(api, observed);
  nlohmann::json out = {
      {"name", api.spec.name},
      {"kind", api.spec.kind},
      {"status", status},
      {"reason", reason},
      {"endpoint", api.spec.networking.endpoint},
      {"version", api.version},
      {"requested", api.spec.ScalesReplicas() ? api.requested : 0},
      {"up_to_date", observed.ReadyCurrent()},
      {"last_update", api.updated_at},
      {"requests_2xx", s.responses_2xx},
      {"requests_4xx", s.responses_4xx},
      {"requests_5xx", s.responses_5xx},
      {"in_flight", s.in_flight},
      {"queued", s.queued},
      {"avg_request_ms", total == 0 ? nlohmann::json(nullptr)
                                    : nlohmann::json(static_cast<double>(s.latency_us_total) /
                                                     static_cast<double>(total) / 1000.0)},
      // Over the last minute (since the API appeared at the gateway, if that is later).
      {"p50_ms", s.recent.p50_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.recent.p50_ms)},
      {"p99_ms", s.recent.p99_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.recent.p99_ms)},
      // The window is at least 1 s, so a few requests just after a deploy are not a huge rate.
      {"requests_per_s", static_cast<double>(s.recent.requests) * 1000.0 /
                             static_cast<double>(std::max<int64_t>(s.recent.window_ms, 1000))},
  };
  // 5XX share of the answers of the last minute, from the dashboard's samples.
  const double error_rate = history_.ErrorRate(api.spec.name, 60'000);
  out["error_rate"] = error_rate < 0 ? nlohmann::json(nullptr) : nlohmann::json(error_rate);
  if (!api.spec.RunsReplicas()) out["apis"] = SplitTargetsJson(api.spec);
  return out;
}

nlohmann::json Controller::List() const {
  contract::GatewayStats stats = gateway_.Stats(kNoSamples);
  AddQueueDemand(stats);  // an AsyncAPI's in_flight and queued are its queue's
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, api] : apis_) {
    out.push_back(SummaryLocked(api, backend_.Observe(name), stats));
  }
  return out;
}

StatusOr<nlohmann::json> Controller::Describe(const std::string& name) const {
  contract::GatewayStats stats = gateway_.Stats(kNoSamples);
  AddQueueDemand(stats);
  nlohmann::json out;
  std::vector<http::Peer> batching_replicas;  // ready replicas, when the API batches
  std::vector<size_t> batching_rows;          // their rows in out["replicas"]
  {
    std::lock_guard lock(mu_);
    auto it = apis_.find(name);
    if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
    const ApiRuntime& api = it->second;
    const ApiObservation observed = backend_.Observe(name);
    out = SummaryLocked(api, observed, stats);
    out["error"] = observed.error;
    out["autoscaling"] = api.last_scaling;
    out["spec"] = spec::ToJson(api.spec);
    const auto api_stats = stats.apis.find(name);
    const bool batching = api.spec.predictor.server_side_batching.enabled();
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& r : observed.replicas) {
      int64_t in_flight = 0;
      if (api_stats != stats.apis.end()) {
        const auto found = api_stats->second.replica_in_flight.find(r.id);
        if (found != api_stats->second.replica_in_flight.end()) in_flight = found->second;
      }
      if (batching && r.state == ReplicaState::kReady) {
        if (auto peer = ReplicaPeer(r)) {
          batching_replicas.push_back(std::move(*peer));
          batching_rows.push_back(replicas.size());
        }
      }
      replicas.push_back({{"id", r.id},
                          {"version", r.version},
                          {"state", ReplicaStateName(r.state)},
                          {"pid", r.pid},
                          {"port", r.port},
                          {"restarts", r.restarts},
                          {"in_flight", in_flight},
                          {"last_failure", FirstLine(r.last_failure)}});
    }
    out["replicas"] = std::move(replicas);
    out["batching"] = nullptr;
    if (batching) out["batching"] = {{"replicas_reporting", 0}};
  }
  // Batch sizes and queue wait, asked of the ready replicas without the lock.
  if (!batching_replicas.empty()) {
    contract::ReplicaStats total;
    int reporting = 0;
    const auto bodies = FetchFromReplicas(batching_replicas, "/stats", kReplicaStatsTimeout);
    for (size_t i = 0; i < bodies.size(); ++i) {
      auto parsed = contract::ReplicaStatsFromJson(
          nlohmann::json::parse(bodies[i], nullptr, /*allow_exceptions=*/false));
      if (!parsed.ok()) continue;  // did not answer (in time), or not a replica of this build
      ++reporting;
      total.batch_size.Add(parsed->batch_size);
      total.queue_wait_us.Add(parsed->queue_wait_us);
      out["replicas"][batching_rows[i]]["batches"] = parsed->batch_size.Count();
      out["replicas"][batching_rows[i]]["mean_batch_size"] = Mean(parsed->batch_size, 1);
    }
    out["batching"] = BatchingJson(total, reporting);
  }
  return out;
}

StatusOr<nlohmann::json> Controller::Logs(const std::string& name, const LogQuery& query) const {
  {
    std::lock_guard lock(mu_);
    const auto it = apis_.find(name);
    if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
    if (!query.job.empty() && !it->second.spec.RunsJobs()) {
      return InvalidArgument("api " + name + " is " + spec::KindWithArticle(it->second.spec.kind) +
                             " and runs no jobs; leave out the job id");
    }
  }
  if (!query.job.empty() && !LooksLikeJobId(query.job)) {
    return NotFound("api " + name + " has no job " + query.job);
  }
  if (options_.read_logs) return options_.read_logs(name, query);
  if (!query.job.empty()) {
    return ReadApiLog(options_.home.ApiLog(JobWorkerName(name, query.job)), query);
  }
  return ReadApiLog(options_.home.ApiLog(name), query);
}

StatusOr<nlohmann::json> Controller::Versions(const std::string& name) const {
  int64_t current = 0;
  {
    std::lock_guard lock(mu_);
    const auto it = apis_.find(name);
    if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
    current = it->second.version;
  }
  auto history = store_.History(name);  // SQLite: without mu_
  if (!history.ok()) return history.status();
  nlohmann::json out = nlohmann::json::array();
  for (auto v = history->rbegin(); v != history->rend(); ++v) {
    out.push_back({{"version", v->version},
                   {"updated_at", v->updated_at},
                   {"bundle", v->bundle},
                   {"current", v->version == current}});
  }
  return out;
}

}  // namespace axon::operator_
