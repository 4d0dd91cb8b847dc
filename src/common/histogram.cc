#include "common/histogram.h"

namespace axon {

uint64_t HistogramSnapshot::Count() const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

HistogramSnapshot HistogramSnapshot::Minus(const HistogramSnapshot& earlier) const {
  HistogramSnapshot out{
      .bounds = bounds, .counts = counts, .sum = sum - std::min(sum, earlier.sum)};
  for (size_t i = 0; i < out.counts.size() && i < earlier.counts.size(); ++i) {
    out.counts[i] -= std::min(out.counts[i], earlier.counts[i]);
  }
  return out;
}

void HistogramSnapshot::Add(const HistogramSnapshot& other) {
  if (counts.size() < other.counts.size()) counts.resize(other.counts.size());
  for (size_t i = 0; i < other.counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

double HistogramSnapshot::Quantile(double q) const {
  const uint64_t total = Count();
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const uint64_t in_bucket = counts[i];
    if (in_bucket > 0 && static_cast<double>(below + in_bucket) >= rank) {
      if (i == bounds.size()) return bounds.empty() ? 0 : static_cast<double>(bounds.back());
      const double lower = i == 0 ? 0 : static_cast<double>(bounds[i - 1]);
      const double upper = static_cast<double>(bounds[i]);
      const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(in_bucket);
      return lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0);
    }
    below += in_bucket;
  }
  return bounds.empty() ? 0 : static_cast<double>(bounds.back());
}

}  // namespace axon
