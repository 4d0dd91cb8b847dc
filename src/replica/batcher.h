// Server-side batching: items submitted one at a time leave in batches, by one of two
// policies (BatchPolicy):
//   adaptive (interval 0): a batch leaves as soon as a worker is free, with what is queued then
//     (up to max_batch_size). A lone item on an idle batcher runs at once; while the workers
//     run, arrivals queue, and the next batch takes them.
//   fixed interval (Cortex's): a batch leaves when it holds max_batch_size items or `interval`
//     after its first item arrived, whichever comes first.
// Each of `workers` threads runs one batch at a time, so while all are busy, new items gather
// into fuller batches. With the adaptive policy a caller may also run a lone item itself, on
// its own thread, when the batcher is idle (TryClaimIdle): that sparing of a handoff counts as
// one of the `workers` batches running, so no more than `workers` batches ever run at once.
//
// Threading: Submit(), TryClaimIdle() and EndClaim() from any thread; `run` is called on the
// batcher's own worker threads. The destructor runs what is queued, then joins the workers.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace axon::replica {

// When a batch leaves the queue. A pure function of what is queued and the time, so the tests
// drive it with made-up times.
struct BatchPolicy {
  using Clock = std::chrono::steady_clock;
  size_t max_batch_size = 1;
  Clock::duration interval{0};  // 0: adaptive

  // How many of the `queued` items (the oldest arrived at `first_arrival`) a free worker takes
  // `now`; 0 while the batch is not due yet, and then `*due` is when it will be.
  size_t Take(size_t queued, Clock::time_point first_arrival, Clock::time_point now,
              Clock::time_point* due) const {
    if (queued == 0) return 0;
    const size_t batch = std::min(queued, max_batch_size);
    if (queued >= max_batch_size || interval == Clock::duration::zero()) return batch;
    *due = first_arrival + interval;
    return now >= *due ? batch : 0;
  }
};

template <typename T>
class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  using RunBatch = std::function<void(std::vector<T>& batch)>;

  // `interval` 0: adaptive (see above).
  Batcher(size_t max_batch_size, Clock::duration interval, int workers, RunBatch run)
      : policy_{.max_batch_size = std::max<size_t>(1, max_batch_size), .interval = interval},
        workers_(std::max(1, workers)),
        run_(std::move(run)) {
    for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Batcher() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
  }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  void Submit(T item) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(item), Clock::now()});
      wake = queue_.size() == 1 || queue_.size() >= policy_.max_batch_size;
    }
    if (wake) changed_.notify_all();
  }

  // Adaptive policy only: true when nothing is queued and no batch runs. The caller then runs
  // its item as a batch of one itself and must call EndClaim() after; items submitted
  // meanwhile wait as they would behind a worker's batch. False with a fixed interval (a batch
  // waits for company) and whenever the batcher is busy.
  bool TryClaimIdle() {
    std::lock_guard lock(mu_);
    if (policy_.interval != Clock::duration::zero() || stopping_ || running_ != 0 ||
        !queue_.empty()) {
      return false;
    }
    ++running_;
    return true;
  }
  void EndClaim() {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      --running_;
      wake = !queue_.empty();
    }
    if (wake) changed_.notify_all();
  }

 private:
  struct Entry {
    T item;
    Clock::time_point arrived;
  };

  void Work() {
    std::unique_lock lock(mu_);
    std::vector<T> batch;
    while (true) {
      changed_.wait(lock, [this] { return stopping_ || (!queue_.empty() && running_ < workers_); });
      if (queue_.empty()) return;  // stopping, nothing left
      Clock::time_point due;
      size_t take = policy_.Take(queue_.size(), queue_.front().arrived, Clock::now(), &due);
      if (stopping_) take = std::min(queue_.size(), policy_.max_batch_size);
      if (take == 0) {
        changed_.wait_until(lock, due);
        continue;  // re-check: another worker may have taken these items
      }
      batch.clear();
      while (batch.size() < take) {
        batch.push_back(std::move(queue_.front().item));
        queue_.pop_front();
      }
      if (!queue_.empty()) changed_.notify_all();  // the next batch may be due already
      ++running_;
      lock.unlock();
      run_(batch);
      lock.lock();
      --running_;
    }
  }

  const BatchPolicy policy_;
  const int workers_;
  const RunBatch run_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  int running_ = 0;  // batches being run, by the workers or by callers that claimed the batcher
  std::vector<std::thread> threads_;  // last: started after the rest is initialized
};

}  // namespace axon::replica
