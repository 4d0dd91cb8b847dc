// A fixed-bucket histogram that any number of threads update without a lock (one relaxed atomic
// increment for the bucket and one for the sum per observation), and the plain snapshot that
// readers take of it: cumulative counts for Prometheus (exposition.h) and quantiles for the CLI.
//
// Values are unsigned integers in the unit the caller picks (microseconds for latencies, items
// for batch sizes); the bucket bounds are in that unit, ascending, at most kMaxBounds, and
// must outlive the histogram (they are static tables in practice). A snapshot read while
// others observe may be off by the observations in progress; its count always equals the sum
// of its buckets.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

namespace axon {

struct HistogramSnapshot {
  std::span<const uint64_t> bounds;  // upper bounds (inclusive), ascending; +Inf is implied
  std::vector<uint64_t> counts;      // per bucket (not cumulative): bounds.size() + 1 entries
  uint64_t sum = 0;

  uint64_t Count() const;
  // The observations since `earlier` (a snapshot of the same histogram taken before).
  HistogramSnapshot Minus(const HistogramSnapshot& earlier) const;
  // Adds the observations of `other`, a snapshot with the same bounds (of another process).
  void Add(const HistogramSnapshot& other);
  // The q-quantile (0 < q < 1) interpolated linearly inside its bucket, as Prometheus's
  // histogram_quantile does; a quantile in the +Inf bucket is the highest bound. -1 when the
  // snapshot holds no observation.
  double Quantile(double q) const;
};

class Histogram {
 public:
  static constexpr size_t kMaxBounds = 31;

  explicit Histogram(std::span<const uint64_t> bounds)
      : bounds_(bounds.subspan(0, std::min(bounds.size(), kMaxBounds))) {}
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(uint64_t value) {
    const size_t bucket = static_cast<size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  HistogramSnapshot Snapshot() const {
    HistogramSnapshot out{.bounds = bounds_, .counts = {}, .sum = 0};
    out.counts.reserve(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      out.counts.push_back(counts_[i].load(std::memory_order_relaxed));
    }
    out.sum = sum_.load(std::memory_order_relaxed);
    return out;
  }

 private:
  const std::span<const uint64_t> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<uint64_t> sum_{0};
};

// Bucket bounds shared by the platform's histograms.
// Request latency and queue wait, in microseconds: 0.1 ms to 60 s.
inline constexpr std::array<uint64_t, 20> kLatencyBoundsUs = {
    100,       250,        500,        1'000,      2'500,      5'000,     10'000,
    25'000,    50'000,     100'000,    250'000,    500'000,    1'000'000, 2'500'000,
    5'000'000, 10'000'000, 20'000'000, 30'000'000, 45'000'000, 60'000'000};
// Server-side batch sizes, in requests.
inline constexpr std::array<uint64_t, 10> kBatchSizeBounds = {1,  2,  4,   8,   16,
                                                              32, 64, 128, 256, 512};

}  // namespace axon
