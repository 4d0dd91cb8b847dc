// The dashboard's history of each API (GET /v1/apis/NAME/history): one point per sampling
// pass (every --history-ms, 5 s by default) with the interval's request rate, answers by class,
// latency quantiles and average, and the sample's in-flight requests, replicas and each local
// replica's CPU and memory. Rates and quantiles come from the difference of two consecutive
// gateway snapshots (contract::ApiStats: counters and the latency histogram since the API
// appeared), so the numbers are those of `axon get` and /metrics.
//
// Cost, fixed: kCapacity (720) points per API in a RingBuffer, an hour at the default interval.
// A point is about 130 bytes plus about 50 per replica, at most kMaxReplicasPerPoint (16)
// replicas: about 120 KB per API with two replicas, 660 KB at most. An API's history goes
// when the API does.
//
// Threading: Record() from one thread at a time (the reconcile thread); Json() from any
// thread. Both take the object's mutex; no I/O under it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contract/stats.h"
#include "operator/proc_usage.h"
#include "operator/ring_buffer.h"

namespace axon::operator_ {

// One replica at a sampling pass.
struct ReplicaSample {
  std::string id;
  int64_t pid = 0;                 // local mode; 0 in a cluster
  std::optional<ProcUsage> usage;  // from /proc, when the process is local and alive
};

// One API at a sampling pass.
struct ApiSample {
  std::string api;
  int64_t ready = 0;         // replicas answering their readiness probe
  int64_t requested = 0;     // replicas wanted now
  contract::ApiStats stats;  // the gateway's, since the API appeared there (may be empty)
  std::vector<ReplicaSample> replicas;
};

struct ReplicaUsagePoint {
  std::string id;
  double cpu_percent = -1;  // of one core over the interval; -1: not known (first sample)
  uint64_t rss_bytes = 0;
};

struct HistoryPoint {
  int64_t unix_ms = 0;
  int64_t interval_ms = 0;  // since the sample before
  // Answers in the interval, by class.
  uint64_t answers_2xx = 0;
  uint64_t answers_4xx = 0;
  uint64_t answers_5xx = 0;
  int64_t in_flight = 0;  // at the sample: sent to replicas plus queued
  int64_t ready = 0;
  int64_t requested = 0;
  // Latency of the interval's answers; -1: no answer in the interval.
  double p50_ms = -1;
  double p90_ms = -1;
  double p99_ms = -1;
  double avg_ms = -1;
  std::vector<ReplicaUsagePoint> replicas;  // local replicas with usage, at most 16

  uint64_t Answers() const { return answers_2xx + answers_4xx + answers_5xx; }
  // `answers` per second of the interval.
  double PerSecond(uint64_t answers) const {
    return static_cast<double>(answers) * 1000.0 /
           static_cast<double>(std::max<int64_t>(interval_ms, 1));
  }
};

class ApiHistory {
 public:
  static constexpr size_t kCapacity = 720;
  static constexpr size_t kMaxReplicasPerPoint = 16;

  // `ticks_per_second`: the unit of ProcUsage::cpu_ticks (sysconf(_SC_CLK_TCK)).
  explicit ApiHistory(int64_t ticks_per_second, size_t capacity = kCapacity);

  // An API created at `unix_ms`, whose counters at the gateway start at zero: its first
  // sampling pass counts from zero (an earlier history of that name is dropped).
  void Begin(const std::string& api, int64_t unix_ms);
  // One sampling pass over every API there is, as they were at `unix_ms`; APIs not in `apis`
  // are forgotten (unless begun at `unix_ms` or later).
  // The first pass of an API that was not begun (one that ran before the operator started)
  // only sets the baseline of its rates: its first point comes with the second pass.
  void Record(int64_t unix_ms, const std::vector<ApiSample>& apis);
  // The API's points, oldest first; empty if it has none yet.
  std::vector<HistoryPoint> Points(const std::string& api) const;
  // 5XX answers over all answers in the points of the last `window_ms` (up to the newest
  // point); -1 when there was no answer in it.
  double ErrorRate(const std::string& api, int64_t window_ms) const;
  // Points(api) for the dashboard, as columns: {"interval_ms", "t": [unix_ms...],
  // "answers_2xx": [...], ..., "requests_per_s": [...], "rate_2xx": [...], ..., "replicas":
  // {id: {"cpu_percent": [...], "rss_bytes": [...]}}}, null where a value is not known.
  nlohmann::json Json(const std::string& api, int64_t interval_ms) const;

 private:
  struct Baseline {
    int64_t unix_ms = 0;
    contract::ApiStats stats;
    std::map<std::string, std::pair<int64_t, uint64_t>> cpu;  // replica -> (pid, cpu ticks)
  };
  struct Series {
    explicit Series(size_t capacity) : points(capacity) {}
    RingBuffer<HistoryPoint> points;
    std::optional<Baseline> baseline;
  };
  HistoryPoint PointFrom(const Baseline& before, int64_t unix_ms, const ApiSample& now) const;

  const int64_t ticks_per_second_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, Series> series_;  // guarded by mu_
};

}  // namespace axon::operator_
