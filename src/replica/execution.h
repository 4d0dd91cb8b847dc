// Where a replica runs predictor code: on a pool of execution threads, or, for a predictor
// whose calls are cheap, on the I/O thread that parsed the request.
//
// Handing a call to another thread and its answer back costs two thread wakeups; for a call
// of a few microseconds (an echo, a small MLP) that is a large part of the replica's work per
// request (a third of its CPU for an echo predictor in bench/compare).
// So Run() times every call and keeps a running mean; while the mean is under `inline_below`
// and a slot is free, the call runs on the calling (I/O) thread. A call that turns out slow
// raises the mean, and later calls go to the pool again, so an expensive predictor never holds
// an I/O thread for long. Offload() always uses the pool (answer streams, whose items may
// block).
//
// Inline calls do not overlap the I/O thread's own work (reading and writing other
// connections' requests), so when that thread is the replica's bottleneck the pool is faster.
// Each calling thread therefore keeps, over windows of kWindow, its CPU share (its CPU time per
// wall time, inline calls included) plus the pool's busy share (time in calls that ran there,
// which would come to it inline): while that sum is kPoolFromPermille or more, calls go to the
// pool; when the load falls they come back inline. On a machine whose cores are all in use
// (the platform's replicas, its gateway, clients) the thread's share stays low and calls stay
// inline, saving the handoffs' CPU; a replica with cores to itself under heavy load uses them.
//
// Concurrency: at most `threads` calls run at once, inline ones included (one counting
// semaphore of `threads` slots: inline calls take a free one or go to the pool; pool calls
// wait for one), so a predictor sees no more concurrent calls than threads_per_process.
//
// Threading: Run() and Offload() are called from I/O coroutines on any number of threads and
// resume on the caller's executor. An exception thrown by a call is rethrown in the coroutine.
// Join() (also the destructor) runs what is queued, then joins the pool; call it after the
// servers that call Run() have stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <semaphore>

#include "http/beast.h"
#include "http/run_on.h"

namespace axon::replica {

class Execution {
 public:
  // Monotonic clocks in nanoseconds: wall time, and the calling thread's CPU time. Tests pass
  // made-up ones.
  using Clock = std::function<int64_t()>;
  struct Clocks {
    Clock wall;
    Clock thread_cpu;
  };
  // Calls whose mean time is under this run inline.
  static constexpr std::chrono::microseconds kInlineBelow{200};
  // The window of the load measure, and the load (thousandths of one thread) from which calls
  // go to the pool.
  static constexpr std::chrono::milliseconds kWindow{20};
  static constexpr int64_t kPoolFromPermille = 750;

  explicit Execution(int threads);  // the real clocks, kInlineBelow
  Execution(int threads, std::chrono::nanoseconds inline_below, Clocks clocks);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // T must be default-constructible and movable.
  template <typename T>
  http::asio::awaitable<T> Run(std::function<T()> fn) {
    if (InlineNow() && slots_.try_acquire()) {
      Released release(slots_);
      co_return Timed(fn, /*pooled=*/false);
    }
    co_return co_await Offload<T>(std::move(fn), /*timed=*/true);
  }

  template <typename T>
  http::asio::awaitable<T> Offload(std::function<T()> fn, bool timed = false) {
    return http::RunOn<T>(pool_, [this, fn = std::move(fn), timed] {
      slots_.acquire();
      Released release(slots_);
      return timed ? Timed(fn, /*pooled=*/true) : fn();
    });
  }

  // For a caller with a path of its own besides the pool (a batcher's workers): whether a call
  // would run inline now by the mean and load rules (slots are the caller's to count), and the
  // time of each call, run inline on the calling thread or `elsewhere`, so that the mean and
  // the load measure see them. Run() does both for its own calls.
  bool InlineNow();
  void Observe(int64_t nanos, bool elsewhere);

  // The running mean of timed calls, nanoseconds; -1 before the first.
  int64_t MeanNanos() const { return mean_ns_.load(std::memory_order_relaxed); }
  // The calling thread's load in its last complete window (its CPU share plus the pool's busy
  // share), thousandths of one thread; 0 before one.
  int64_t LoadPermille() const;

  void Join();

  static int64_t SteadyNanos();
  static int64_t ThreadCpuNanos();

 private:
  struct Released {
    explicit Released(std::counting_semaphore<>& s) : slots(s) {}
    ~Released() { slots.release(); }
    std::counting_semaphore<>& slots;
  };

  template <typename T>
  T Timed(const std::function<T()>& fn, bool pooled) {
    struct Observer {  // observes a call that threw too: it was slow or not, all the same
      Execution* self;
      bool pooled;
      int64_t start = self->clocks_.wall();
      ~Observer() { self->Observe(self->clocks_.wall() - start, pooled); }
    } observer{this, pooled};
    return fn();
  }

  const uint64_t id_;  // names this Execution in each thread's load measure
  const int64_t inline_below_ns_;
  const Clocks clocks_;
  std::atomic<int64_t> mean_ns_{-1};
  // Time in calls run on the pool (or elsewhere) since the window of any thread last closed.
  std::atomic<int64_t> pool_busy_ns_{0};
  std::counting_semaphore<> slots_;
  http::asio::thread_pool pool_;  // last: its threads start after the rest is initialized
};

}  // namespace axon::replica
