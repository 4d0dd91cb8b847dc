#include "replica/execution.h"

#include <algorithm>
#include <utility>

namespace axon::replica {

Execution::Execution(int threads, std::chrono::nanoseconds inline_below, Clock clock)
    : inline_below_ns_(inline_below.count()),
      clock_(std::move(clock)),
      slots_(std::max(1, threads)),
      pool_(static_cast<size_t>(std::max(1, threads))) {}

Execution::~Execution() { Join(); }

void Execution::Join() { pool_.join(); }

int64_t Execution::SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Execution::Cheap() const {
  const int64_t mean = mean_ns_.load(std::memory_order_relaxed);
  return mean >= 0 && mean < inline_below_ns_;
}

void Execution::Observe(int64_t nanos) {
  // A running mean weighting the last call 1/8. Concurrent calls may lose an update to each
  // other; the mean only decides where the next calls run, so that is harmless.
  const int64_t mean = mean_ns_.load(std::memory_order_relaxed);
  mean_ns_.store(mean < 0 ? nanos : mean + (nanos - mean) / 8, std::memory_order_relaxed);
}

}  // namespace axon::replica
