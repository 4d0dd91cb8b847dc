// One API's statistics at the gateway: answers by status code and API version, latency and
// queue-wait histograms, in-flight samples for the autoscaler, and the latency of the last
// minute for `axon get`. RouteTable::Stats() turns them into the operator's contract
// (contract/stats.h) and RouteTable::Metrics() into Prometheus metrics (gateway_metrics.cc).
//
// Threading: the request path calls Record() and RecordQueueWait() concurrently without a lock
// (relaxed atomics); everything else takes the object's own mutexes and never runs per request.
// Owned by the API's ApiShared, which route tables share while the API exists.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/histogram.h"
#include "contract/stats.h"

namespace axon::gateway {

// Answers by HTTP status code (100 to 599), lock-free: one relaxed increment per answer.
struct StatusCounters {
  static constexpr unsigned kMinCode = 100;
  static constexpr unsigned kMaxCode = 599;
  std::array<std::atomic<uint64_t>, kMaxCode - kMinCode + 1> by_code{};

  void Count(unsigned status) {
    if (status >= kMinCode && status <= kMaxCode) {
      by_code[status - kMinCode].fetch_add(1, std::memory_order_relaxed);
    }
  }
  uint64_t Get(unsigned status) const {
    return by_code[status - kMinCode].load(std::memory_order_relaxed);
  }
};

// Per-API statistics since the API appeared at the gateway. Record() runs on every request
// (three relaxed atomic increments); the rest runs on the sampler and the stats and metrics
// endpoints.
class ApiStats {
 public:
  ApiStats();

  // Answers to predictions: by status code and API version (`responses`: a replica's counters,
  // or nullptr for answers given before a replica was chosen), and their latency.
  void Record(unsigned status, std::chrono::microseconds latency, StatusCounters* responses);
  // How long a prediction waited for a replica (in the queue or not) before it was sent.
  void RecordQueueWait(std::chrono::microseconds wait) {
    queue_wait_.Observe(static_cast<uint64_t>(wait.count()));
  }

  // The counters of API version `version`, created on first use (when a route table with a
  // replica of that version is built). Kept as long as the API is: one per version.
  StatusCounters* ForVersion(int64_t version);
  // (version, counters) of every version seen, version 0 standing for "no replica chosen".
  std::vector<std::pair<int64_t, const StatusCounters*>> Versions() const;
  HistogramSnapshot Latency() const { return latency_.Snapshot(); }
  HistogramSnapshot QueueWait() const { return queue_wait_.Snapshot(); }

  // In-flight samples for the autoscaler: (unix ms, requests in flight), newest last, at most
  // kMaxSamples; and a latency snapshot per sample over the last minute (RecentLatency).
  // Written by the sampler thread, read by the stats endpoint; not on the request path.
  static constexpr size_t kMaxSamples = 600;
  static constexpr int64_t kRecentWindowMs = 60'000;
  void AddSample(int64_t unix_ms, int64_t in_flight);
  std::vector<contract::InFlightSample> SamplesAfter(int64_t after_unix_ms) const;
  // The latency of the answers of the last minute (since the oldest snapshot taken at most
  // kRecentWindowMs before `now_unix_ms`, or since the API appeared), and that window's length.
  std::pair<HistogramSnapshot, int64_t> RecentLatency(int64_t now_unix_ms) const;

 private:
  struct LatencyAt {
    int64_t unix_ms;
    HistogramSnapshot latency;
  };

  Histogram latency_{kLatencyBoundsUs};     // microseconds, every answered prediction
  Histogram queue_wait_{kLatencyBoundsUs};  // microseconds, every prediction sent to a replica
  StatusCounters unrouted_;                 // answers given before a replica was chosen

  mutable std::mutex versions_mu_;
  std::map<int64_t, std::unique_ptr<StatusCounters>> versions_;  // guarded by versions_mu_

  mutable std::mutex samples_mu_;
  std::deque<contract::InFlightSample> samples_;  // guarded by samples_mu_
  std::deque<LatencyAt> latency_history_;         // guarded by samples_mu_; oldest first
};

}  // namespace axon::gateway
