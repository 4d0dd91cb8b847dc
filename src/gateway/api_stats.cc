#include "gateway/api_stats.h"

namespace axon::gateway {

ApiStats::ApiStats() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  latency_history_.push_back({now_ms, latency_.Snapshot()});  // the window's start, all zero
}

void ApiStats::Record(unsigned status, std::chrono::microseconds latency,
                      StatusCounters* responses) {
  (responses != nullptr ? responses : &unrouted_)->Count(status);
  latency_.Observe(static_cast<uint64_t>(latency.count()));
}

StatusCounters* ApiStats::ForVersion(int64_t version) {
  std::lock_guard lock(versions_mu_);
  auto& counters = versions_[version];
  if (counters == nullptr) counters = std::make_unique<StatusCounters>();
  return counters.get();
}

std::vector<std::pair<int64_t, const StatusCounters*>> ApiStats::Versions() const {
  std::vector<std::pair<int64_t, const StatusCounters*>> out{{0, &unrouted_}};
  std::lock_guard lock(versions_mu_);
  for (const auto& [version, counters] : versions_) out.emplace_back(version, counters.get());
  return out;
}

void ApiStats::AddSample(int64_t unix_ms, int64_t in_flight) {
  HistogramSnapshot latency = latency_.Snapshot();
  std::lock_guard lock(samples_mu_);
  samples_.push_back({unix_ms, in_flight});
  if (samples_.size() > kMaxSamples) samples_.pop_front();
  latency_history_.push_back({unix_ms, std::move(latency)});
  // Keep the newest snapshot at least kRecentWindowMs old as the window's start.
  while (latency_history_.size() > 1 && (latency_history_[1].unix_ms <= unix_ms - kRecentWindowMs ||
                                         latency_history_.size() > kMaxSamples)) {
    latency_history_.pop_front();
  }
}

std::vector<contract::InFlightSample> ApiStats::SamplesAfter(int64_t after_unix_ms) const {
  std::lock_guard lock(samples_mu_);
  std::vector<contract::InFlightSample> out;
  for (const auto& sample : samples_) {
    if (sample.unix_ms > after_unix_ms) out.push_back(sample);
  }
  return out;
}

std::pair<HistogramSnapshot, int64_t> ApiStats::RecentLatency(int64_t now_unix_ms) const {
  const HistogramSnapshot now = latency_.Snapshot();
  std::lock_guard lock(samples_mu_);
  // The oldest snapshot inside the window (the sampler drops those before it).
  const LatencyAt* start = &latency_history_.front();
  for (const auto& entry : latency_history_) {
    if (entry.unix_ms >= now_unix_ms - kRecentWindowMs) {
      start = &entry;
      break;
    }
  }
  return {now.Minus(start->latency), std::max<int64_t>(0, now_unix_ms - start->unix_ms)};
}

}  // namespace axon::gateway
