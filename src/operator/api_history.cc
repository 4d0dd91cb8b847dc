#include "operator/api_history.h"

#include <algorithm>
#include <set>

#include "common/histogram.h"

namespace axon::operator_ {
namespace {

using json = nlohmann::json;

// A counter's growth; a counter that went down started over (the gateway restarted).
uint64_t Growth(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

// The latency of the answers between two snapshots, or an empty histogram when the gateway
// gave no buckets.
HistogramSnapshot IntervalLatency(const contract::ApiStats& now, const contract::ApiStats& before) {
  HistogramSnapshot current{
      .bounds = kLatencyBoundsUs, .counts = now.latency_buckets, .sum = now.latency_us_total};
  if (current.counts.size() != kLatencyBoundsUs.size() + 1) return {};
  HistogramSnapshot earlier{
      .bounds = kLatencyBoundsUs, .counts = before.latency_buckets, .sum = before.latency_us_total};
  if (earlier.counts.size() != current.counts.size() || earlier.Count() > current.Count()) {
    return current;  // no usable baseline, or the gateway started over
  }
  return current.Minus(earlier);
}

json OrNull(double value) { return value < 0 ? json(nullptr) : json(value); }

}  // namespace

ApiHistory::ApiHistory(int64_t ticks_per_second, size_t capacity)
    : ticks_per_second_(std::max<int64_t>(ticks_per_second, 1)), capacity_(capacity) {}

HistoryPoint ApiHistory::PointFrom(const Baseline& before, int64_t unix_ms,
                                   const ApiSample& now) const {
  HistoryPoint p{.unix_ms = unix_ms,
                 .interval_ms = unix_ms - before.unix_ms,
                 .answers_2xx = Growth(now.stats.responses_2xx, before.stats.responses_2xx),
                 .answers_4xx = Growth(now.stats.responses_4xx, before.stats.responses_4xx),
                 .answers_5xx = Growth(now.stats.responses_5xx, before.stats.responses_5xx),
                 .in_flight = now.stats.in_flight,
                 .ready = now.ready,
                 .requested = now.requested};
  const double seconds = static_cast<double>(std::max<int64_t>(p.interval_ms, 1)) / 1e3;
  const HistogramSnapshot latency = IntervalLatency(now.stats, before.stats);
  if (latency.Count() > 0) {
    p.p50_ms = latency.Quantile(0.5) / 1000.0;
    p.p90_ms = latency.Quantile(0.9) / 1000.0;
    p.p99_ms = latency.Quantile(0.99) / 1000.0;
    p.avg_ms = static_cast<double>(latency.sum) / static_cast<double>(latency.Count()) / 1000.0;
  }
  for (const auto& r : now.replicas) {
    if (!r.usage.has_value()) continue;
    if (p.replicas.size() == kMaxReplicasPerPoint) break;
    ReplicaUsagePoint u{.id = r.id, .rss_bytes = r.usage->rss_bytes};
    const auto it = before.cpu.find(r.id);
    if (it != before.cpu.end() && it->second.first == r.pid &&
        it->second.second <= r.usage->cpu_ticks) {
      u.cpu_percent = static_cast<double>(r.usage->cpu_ticks - it->second.second) /
                      static_cast<double>(ticks_per_second_) / seconds * 100.0;
    }
    p.replicas.push_back(std::move(u));
  }
  return p;
}

void ApiHistory::Begin(const std::string& api, int64_t unix_ms) {
  std::lock_guard lock(mu_);
  Series& s = series_.insert_or_assign(api, Series(capacity_)).first->second;
  s.baseline = Baseline{.unix_ms = unix_ms, .stats = {}, .cpu = {}};
}

void ApiHistory::Record(int64_t unix_ms, const std::vector<ApiSample>& apis) {
  std::lock_guard lock(mu_);
  std::set<std::string> seen;
  for (const auto& sample : apis) {
    seen.insert(sample.api);
    auto it = series_.try_emplace(sample.api, capacity_).first;
    Series& s = it->second;
    if (s.baseline.has_value() && unix_ms > s.baseline->unix_ms) {
      s.points.Push(PointFrom(*s.baseline, unix_ms, sample));
    }
    Baseline next{.unix_ms = unix_ms, .stats = sample.stats, .cpu = {}};
    next.stats.samples.clear();  // the in-flight samples are not needed here
    for (const auto& r : sample.replicas) {
      if (r.usage.has_value()) next.cpu[r.id] = {r.pid, r.usage->cpu_ticks};
    }
    s.baseline = std::move(next);
  }
  // Gone, unless begun after the pass looked (a deploy while the pass read /proc).
  std::erase_if(series_, [&seen, unix_ms](const auto& entry) {
    const auto& [name, series] = entry;
    return !seen.contains(name) &&
           !(series.baseline.has_value() && series.baseline->unix_ms >= unix_ms);
  });
}

std::vector<HistoryPoint> ApiHistory::Points(const std::string& api) const {
  std::lock_guard lock(mu_);
  std::vector<HistoryPoint> out;
  const auto it = series_.find(api);
  if (it == series_.end()) return out;
  out.reserve(it->second.points.size());
  for (size_t i = 0; i < it->second.points.size(); ++i) out.push_back(it->second.points[i]);
  return out;
}

double ApiHistory::ErrorRate(const std::string& api, int64_t window_ms) const {
  std::lock_guard lock(mu_);
  const auto it = series_.find(api);
  if (it == series_.end() || it->second.points.empty()) return -1;
  const RingBuffer<HistoryPoint>& points = it->second.points;
  const int64_t since = points.back().unix_ms - window_ms;
  uint64_t errors = 0;
  uint64_t all = 0;
  for (size_t i = points.size(); i-- > 0 && points[i].unix_ms > since;) {
    errors += points[i].answers_5xx;
    all += points[i].Answers();
  }
  return all > 0 ? static_cast<double>(errors) / static_cast<double>(all) : -1;
}

json ApiHistory::Json(const std::string& api, int64_t interval_ms) const {
  const std::vector<HistoryPoint> points = Points(api);
  json t = json::array(), n2 = json::array(), n4 = json::array(), n5 = json::array(),
       rps = json::array(), r2 = json::array(), r4 = json::array(), r5 = json::array(),
       in_flight = json::array(), ready = json::array(), requested = json::array(),
       p50 = json::array(), p90 = json::array(), p99 = json::array(), avg = json::array();
  std::set<std::string> ids;
  for (const auto& p : points) {
    t.push_back(p.unix_ms);
    n2.push_back(p.answers_2xx);
    n4.push_back(p.answers_4xx);
    n5.push_back(p.answers_5xx);
    rps.push_back(p.PerSecond(p.Answers()));
    r2.push_back(p.PerSecond(p.answers_2xx));
    r4.push_back(p.PerSecond(p.answers_4xx));
    r5.push_back(p.PerSecond(p.answers_5xx));
    in_flight.push_back(p.in_flight);
    ready.push_back(p.ready);
    requested.push_back(p.requested);
    p50.push_back(OrNull(p.p50_ms));
    p90.push_back(OrNull(p.p90_ms));
    p99.push_back(OrNull(p.p99_ms));
    avg.push_back(OrNull(p.avg_ms));
    for (const auto& r : p.replicas) ids.insert(r.id);
  }
  json replicas = json::object();
  for (const auto& id : ids) {
    json cpu = json::array(), rss = json::array();
    for (const auto& p : points) {
      const auto r = std::find_if(p.replicas.begin(), p.replicas.end(),
                                  [&id](const ReplicaUsagePoint& u) { return u.id == id; });
      cpu.push_back(r == p.replicas.end() ? json(nullptr) : OrNull(r->cpu_percent));
      rss.push_back(r == p.replicas.end() ? json(nullptr) : json(r->rss_bytes));
    }
    replicas[id] = {{"cpu_percent", std::move(cpu)}, {"rss_bytes", std::move(rss)}};
  }
  return {{"interval_ms", interval_ms},     {"t", std::move(t)},
          {"answers_2xx", std::move(n2)},   {"answers_4xx", std::move(n4)},
          {"answers_5xx", std::move(n5)},   {"requests_per_s", std::move(rps)},
          {"rate_2xx", std::move(r2)},      {"rate_4xx", std::move(r4)},
          {"rate_5xx", std::move(r5)},      {"in_flight", std::move(in_flight)},
          {"ready", std::move(ready)},      {"requested", std::move(requested)},
          {"p50_ms", std::move(p50)},       {"p90_ms", std::move(p90)},
          {"p99_ms", std::move(p99)},       {"avg_ms", std::move(avg)},
          {"replicas", std::move(replicas)}};
}

}  // namespace axon::operator_
