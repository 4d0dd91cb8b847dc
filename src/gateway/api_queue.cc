#include "gateway/api_queue.h"

#include <algorithm>

namespace axon::gateway {

void ApiQueue::Wake(std::shared_ptr<Waiter> waiter) {
  // On the waiter's own thread: its coroutine started waiting before it let go of that
  // thread, so the cancel always finds the wait pending.
  auto executor = waiter->timer.get_executor();
  http::asio::post(executor, [waiter = std::move(waiter)] { waiter->timer.cancel(); });
}

bool ApiQueue::Remove(const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  waiting_.fetch_sub(1, std::memory_order_seq_cst);
  return true;
}

void ApiQueue::WakeOneSlow() {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mu_);
    if (waiters_.empty()) return;
    waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiting_.fetch_sub(1, std::memory_order_seq_cst);
  }
  Wake(std::move(waiter));
}

void ApiQueue::WakeAll() {
  std::deque<std::shared_ptr<Waiter>> woken;
  {
    std::lock_guard lock(mu_);
    woken.swap(waiters_);
    waiting_.fetch_sub(static_cast<int64_t>(woken.size()), std::memory_order_seq_cst);
  }
  for (auto& waiter : woken) Wake(std::move(waiter));
}

}  // namespace axon::gateway
