#include "replica/execution.h"

#include <time.h>

#include <algorithm>
#include <utility>

namespace axon::replica {
namespace {

std::atomic<uint64_t> next_id{1};

// The calling thread's load measure, for the Execution (by id) that last measured on it.
struct ThreadWindow {
  uint64_t owner = 0;
  int64_t wall_start = 0;
  int64_t cpu_start = 0;
  int64_t load_permille = 0;
};
thread_local ThreadWindow window;

}  // namespace

Execution::Execution(int threads, std::chrono::nanoseconds inline_below, Clocks clocks)
    : id_(next_id.fetch_add(1)),
      inline_below_ns_(inline_below.count()),
      clocks_(std::move(clocks)),
      slots_(std::max(1, threads)),
      pool_(static_cast<size_t>(std::max(1, threads))) {}

Execution::Execution(int threads)
    : Execution(threads, kInlineBelow, {SteadyNanos, ThreadCpuNanos}) {}

Execution::~Execution() { Join(); }

void Execution::Join() { pool_.join(); }

int64_t Execution::SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t Execution::ThreadCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t Execution::LoadPermille() const { return window.owner == id_ ? window.load_permille : 0; }

// Closes the calling thread's window when it is over.
bool Execution::InlineNow() {
  const int64_t mean = mean_ns_.load(std::memory_order_relaxed);
  if (mean < 0 || mean >= inline_below_ns_) return false;
  const int64_t now = clocks_.wall();
  if (window.owner != id_) window = {id_, now, clocks_.thread_cpu(), 0};
  const int64_t elapsed = now - window.wall_start;
  if (elapsed >= std::chrono::duration_cast<std::chrono::nanoseconds>(kWindow).count()) {
    // One CPU clock reading per window: reading it is a system call.
    const int64_t cpu = clocks_.thread_cpu();
    const int64_t pooled = pool_busy_ns_.exchange(0, std::memory_order_relaxed);
    window.load_permille = (cpu - window.cpu_start + pooled) * 1000 / elapsed;
    window.wall_start = now;
    window.cpu_start = cpu;
  }
  return window.load_permille < kPoolFromPermille;
}

void Execution::Observe(int64_t nanos, bool elsewhere) {
  // A running mean weighting the last call 1/8. Concurrent calls may lose an update to each
  // other; the mean only decides where the next calls run, so that is harmless.
  const int64_t mean = mean_ns_.load(std::memory_order_relaxed);
  mean_ns_.store(mean < 0 ? nanos : mean + (nanos - mean) / 8, std::memory_order_relaxed);
  if (elsewhere) pool_busy_ns_.fetch_add(nanos, std::memory_order_relaxed);
}

}  // namespace axon::replica
