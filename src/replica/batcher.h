// Server-side batching: items submitted one at a time leave in batches. A batch is handed to a
// worker when it holds max_batch_size items or batch_interval after its first item arrived,
// whichever comes first. Each of `workers` threads runs one batch at a time, so while all are
// busy, new items gather into fuller batches.
//
// Threading: Submit() from any thread; `run` is called on the batcher's own worker threads.
// The destructor runs what is queued, then joins the workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace axon::replica {

template <typename T>
class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  using RunBatch = std::function<void(std::vector<T>& batch)>;

  Batcher(size_t max_batch_size, Clock::duration interval, int workers, RunBatch run)
      : max_(max_batch_size), interval_(interval), run_(std::move(run)) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { Work(); });
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
      wake = queue_.size() == 1 || queue_.size() >= max_;
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
      changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      const Clock::time_point due = queue_.front().arrived + interval_;
      if (queue_.size() < max_ && !stopping_ && Clock::now() < due) {
        changed_.wait_until(lock, due);
        continue;  // re-check: another worker may have taken these items
      }
      batch.clear();
      while (!queue_.empty() && batch.size() < max_) {
        batch.push_back(std::move(queue_.front().item));
        queue_.pop_front();
      }
      if (!queue_.empty()) changed_.notify_all();  // the next batch may be due already
      lock.unlock();
      run_(batch);
      lock.lock();
    }
  }

  const size_t max_;
  const Clock::duration interval_;
  const RunBatch run_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started after the rest is initialized
};

}  // namespace axon::replica
