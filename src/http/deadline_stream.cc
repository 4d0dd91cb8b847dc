#include "http/deadline_stream.h"

namespace axon::http {

Watchdog::Watchdog(asio::io_context& io)
    : asio::execution_context::service(io),
      io_(io),
      timer_(std::make_unique<asio::steady_timer>(io)) {}

Watchdog::~Watchdog() = default;

void Watchdog::shutdown() { timer_.reset(); }

void Watchdog::Arm(Deadline& deadline, SteadyClock::duration after) {
  Disarm(deadline);
  std::unique_ptr<DeadlineList>& list = lists_[after];
  if (!list) list = std::make_unique<DeadlineList>();
  deadline.at_ = SteadyClock::now() + after;
  deadline.list_ = list.get();
  deadline.prev_ = list->tail;
  deadline.next_ = nullptr;
  (list->tail != nullptr ? list->tail->next_ : list->head) = &deadline;
  list->tail = &deadline;
  ++armed_count_;
  if (deadline.at_ < waiting_for_) WaitFor(deadline.at_);
}

void Watchdog::Disarm(Deadline& deadline) {
  DeadlineList* list = deadline.list_;
  if (list == nullptr) return;
  (deadline.prev_ != nullptr ? deadline.prev_->next_ : list->head) = deadline.next_;
  (deadline.next_ != nullptr ? deadline.next_->prev_ : list->tail) = deadline.prev_;
  deadline.list_ = nullptr;
  deadline.prev_ = deadline.next_ = nullptr;
  --armed_count_;
}

void Watchdog::Replace(Deadline& old, Deadline& fresh) {
  DeadlineList* list = old.list_;
  if (list == nullptr) return;
  fresh.list_ = list;
  fresh.at_ = old.at_;
  fresh.prev_ = old.prev_;
  fresh.next_ = old.next_;
  (old.prev_ != nullptr ? old.prev_->next_ : list->head) = &fresh;
  (old.next_ != nullptr ? old.next_->prev_ : list->tail) = &fresh;
  old.list_ = nullptr;
  old.prev_ = old.next_ = nullptr;
}

void Watchdog::WaitFor(SteadyClock::time_point at) {
  if (!timer_) return;  // shut down
  waiting_for_ = at;
  timer_->expires_at(at);  // cancels the wait for a later instant, if any
  timer_->async_wait([this](const beast::error_code& ec) {
    io_.get_executor().on_work_started();  // the scheduler counts this handler's end as work done
    if (!ec) OnTimer();  // operation_aborted: replaced by an earlier wait, or shut down
  });
  // The wait is not work that keeps io_context::run() going: a deadline matters only while an
  // operation of its stream is pending, and that operation keeps the loop running. (Called from
  // a handler, so the count does not reach zero here.)
  io_.get_executor().on_work_finished();
}

void Watchdog::OnTimer() {
  waiting_for_ = SteadyClock::time_point::max();
  const SteadyClock::time_point now = SteadyClock::now();
  SteadyClock::time_point next = SteadyClock::time_point::max();
  for (auto it = lists_.begin(); it != lists_.end();) {
    DeadlineList& list = *it->second;
    while (list.head != nullptr && list.head->at_ <= now) {
      Deadline& expired = *list.head;
      Disarm(expired);
      expired.Expire();  // closes a socket: its handlers are queued, none runs here
    }
    if (list.head == nullptr) {
      it = lists_.erase(it);
      continue;
    }
    next = std::min(next, list.head->at_);
    ++it;
  }
  if (next != SteadyClock::time_point::max()) WaitFor(next);
}

}  // namespace axon::http
