// Requests waiting in the gateway for one API's replica: while every ready replica already has
// max_replica_concurrency requests, or while an API scaled to zero starts one. A waiter sleeps
// on a timer of its own I/O thread until its deadline; it is woken, never polled:
//   - WakeOne() when a replica of the API finishes a request (a slot is free), and
//   - WakeAll() when the route table changes (replicas came or went).
// A woken waiter tries again and, if another request took the slot, waits again.
//
// No lost wake-ups: a waiter is counted before it makes its last attempt, and a finishing
// request decrements the replica's in-flight count before it reads the count of waiters, each
// side with a sequentially consistent fence between its write and its read (Dekker), so either
// the waiter sees the free slot or the finisher sees the waiter.
//
// Threading: every method may be called from any thread. The mutex is taken only by requests
// that wait and by finishers that see a waiter; the request path without waiters reads one
// atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

#include "http/beast.h"

namespace axon::gateway {

class ApiQueue {
 public:
  // One waiting request: a timer on its I/O thread that wake-ups cancel.
  struct Waiter {
    explicit Waiter(http::asio::any_io_executor executor) : timer(executor) {}
    http::asio::steady_timer timer;
  };

  enum class Outcome { kAcquired, kQueued, kFull };

  // For a request that found no free replica: counts it, calls `try_acquire` once more under
  // the lock (it returns true when it got a replica), and otherwise enqueues `waiter` unless
  // `limit` requests already wait.
  template <typename TryAcquire>
  Outcome Enqueue(const std::shared_ptr<Waiter>& waiter, int64_t limit, TryAcquire try_acquire) {
    waiting_.fetch_add(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::lock_guard lock(mu_);
    if (try_acquire()) {
      waiting_.fetch_sub(1, std::memory_order_seq_cst);
      return Outcome::kAcquired;
    }
    if (static_cast<int64_t>(waiters_.size()) >= limit) {
      waiting_.fetch_sub(1, std::memory_order_seq_cst);
      return Outcome::kFull;
    }
    waiters_.push_back(waiter);
    return Outcome::kQueued;
  }

  // After its timer fired or was cancelled: takes `waiter` out if it is still queued. Returns
  // false when a wake-up had already taken it out (the caller then owns that wake-up: if it
  // gives up, it passes it on with WakeOne()).
  bool Remove(const std::shared_ptr<Waiter>& waiter);
  // A replica of the API finished a request; call after decrementing its in-flight count.
  // Cheap when nobody waits (a fence and one load).
  void WakeOne() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiting_.load(std::memory_order_relaxed) > 0) WakeOneSlow();
  }
  void WakeAll();
  // Requests waiting now.
  int64_t size() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  void WakeOneSlow();
  static void Wake(std::shared_ptr<Waiter> waiter);

  std::atomic<int64_t> waiting_{0};  // queued, or about to check under mu_
  std::mutex mu_;
  std::deque<std::shared_ptr<Waiter>> waiters_;  // guarded by mu_
};

}  // namespace axon::gateway
