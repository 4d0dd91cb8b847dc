// Where a replica runs predictor code: on a pool of execution threads, or, for a predictor
// whose calls are cheap, on the I/O thread that parsed the request.
//
// Handing a call to another thread and its answer back costs two thread wakeups; for a call
// of a few microseconds (an echo, a small MLP) that is most of the replica's work per request.
// So Run() times every call and keeps a running mean; while the mean is under `inline_below`
// and a slot is free, the call runs on the calling (I/O) thread. A call that turns out slow
// raises the mean, and later calls go to the pool again, so an expensive predictor never holds
// an I/O thread for long. Offload() always uses the pool (answer streams, whose items may
// block).
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
  // A monotonic clock in nanoseconds; tests pass a made-up one.
  using Clock = std::function<int64_t()>;
  // Calls whose mean time is under this run inline.
  static constexpr std::chrono::microseconds kInlineBelow{200};

  explicit Execution(int threads, std::chrono::nanoseconds inline_below = kInlineBelow,
                     Clock clock = SteadyNanos);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // T must be default-constructible and movable.
  template <typename T>
  http::asio::awaitable<T> Run(std::function<T()> fn) {
    if (Cheap() && slots_.try_acquire()) {
      Released release(slots_);
      co_return Timed(fn);
    }
    co_return co_await Offload<T>(std::move(fn), /*timed=*/true);
  }

  template <typename T>
  http::asio::awaitable<T> Offload(std::function<T()> fn, bool timed = false) {
    return http::RunOn<T>(pool_, [this, fn = std::move(fn), timed] {
      slots_.acquire();
      Released release(slots_);
      return timed ? Timed(fn) : fn();
    });
  }

  // The running mean of timed calls, nanoseconds; -1 before the first.
  int64_t MeanNanos() const { return mean_ns_.load(std::memory_order_relaxed); }

  void Join();

 private:
  struct Released {
    explicit Released(std::counting_semaphore<>& s) : slots(s) {}
    ~Released() { slots.release(); }
    std::counting_semaphore<>& slots;
  };

  static int64_t SteadyNanos();
  bool Cheap() const;
  void Observe(int64_t nanos);

  template <typename T>
  T Timed(const std::function<T()>& fn) {
    const int64_t start = clock_();
    struct Observer {  // observes a call that threw too: it was slow or not, all the same
      Execution* self;
      int64_t start;
      ~Observer() { self->Observe(self->clock_() - start); }
    } observer{this, start};
    return fn();
  }

  const int64_t inline_below_ns_;
  const Clock clock_;
  std::atomic<int64_t> mean_ns_{-1};
  std::counting_semaphore<> slots_;
  http::asio::thread_pool pool_;  // last: its threads start after the rest is initialized
};

}  // namespace axon::replica
