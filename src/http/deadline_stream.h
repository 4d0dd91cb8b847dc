// A socket whose reads and writes have a deadline, as with beast::basic_stream, at a fraction of
// its cost on the request path.
//
// beast::basic_stream arms a timer for every read and write and cancels it when the operation
// ends: a heap insert and removal, a handler allocation and a cancelled handler run through the
// scheduler, twice per request and side (bench/callgrind). Here a deadline is a node in a list
// owned by the io_context's Watchdog (an Asio service, one per io_context), which has a single
// timer for all its streams. Arming a deadline moves the node to the tail of the list for its
// duration; because every node in one list was armed `duration` after an earlier instant, each
// list stays sorted by deadline and its head is its earliest. The timer is moved only when a new
// deadline is earlier than the one it waits for, which in steady traffic (a few distinct
// durations: idle, header and API timeouts) is almost never.
//
// When a deadline passes, the stream's socket is closed (as basic_stream does): a pending or
// later operation fails, and TimeoutOr() reports it as beast::error::timeout. A stream that timed
// out stays closed.
//
// The Watchdog's timer does not keep io_context::run() from returning: what a deadline bounds is
// a pending operation, and that is work of its own. Deadlines are armed from handlers (the
// coroutines that use the streams), never from outside the running io_context.
//
// Threading: a Watchdog and its streams belong to one io_context that a single thread runs (each
// of HttpServer's I/O threads has its own); nothing here takes a lock. Lifetimes: a stream must
// be destroyed before its io_context (as any Asio socket); a stream destroyed while armed leaves
// its list.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include "http/beast.h"

namespace axon::http {

using SteadyClock = std::chrono::steady_clock;

// A socket of `Protocol` bound to an io_context's own executor (not the type-erased
// any_io_executor, whose copies cost on every operation).
template <typename Protocol>
using IoSocket =
    typename Protocol::socket::template rebind_executor<asio::io_context::executor_type>::other;

struct DeadlineList;

// The io_context behind `executor`: a coroutine spawned on an io_context has its executor,
// plain or tracking work. Throws std::logic_error for any other executor.
inline asio::io_context& IoContextOf(const asio::any_io_executor& executor) {
  using Plain = asio::io_context::executor_type;
  using Tracked =
      decltype(asio::prefer(std::declval<Plain>(), asio::execution::outstanding_work.tracked));
  if (const auto* plain = executor.target<Plain>()) return plain->context();
  if (const auto* tracked = executor.target<Tracked>()) return tracked->context();
  throw std::logic_error("a DeadlineStream needs an io_context's executor");
}

// One deadline, linked into its Watchdog while armed. Expire() runs on the io_context's thread
// once the deadline has passed, after the node left its list.
class Deadline {
 public:
  Deadline() = default;
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool armed() const { return list_ != nullptr; }
  SteadyClock::time_point at() const { return at_; }

 protected:
  ~Deadline() = default;
  virtual void Expire() = 0;

 private:
  friend class Watchdog;
  DeadlineList* list_ = nullptr;
  Deadline* prev_ = nullptr;
  Deadline* next_ = nullptr;
  SteadyClock::time_point at_{};
};

class Watchdog final : public asio::execution_context::service {
 public:
  inline static asio::execution_context::id id;

  explicit Watchdog(asio::io_context& io);
  ~Watchdog() override;

  // The Watchdog of `io`, made on first use.
  static Watchdog& Of(asio::io_context& io) { return asio::use_service<Watchdog>(io); }

  // Arms `deadline` to pass `after` from now (re-arming it if it was armed).
  void Arm(Deadline& deadline, SteadyClock::duration after);
  // Unarms `deadline`; nothing if it is not armed.
  void Disarm(Deadline& deadline);
  // `fresh` takes the place of the armed `old` (a moved stream), which ends unarmed.
  void Replace(Deadline& old, Deadline& fresh);

  // Deadlines armed now (tests).
  size_t armed_count() const { return armed_count_; }

 private:
  void shutdown() override;
  void WaitFor(SteadyClock::time_point at);
  void OnTimer();

  asio::io_context& io_;
  std::unique_ptr<asio::steady_timer> timer_;
  SteadyClock::time_point waiting_for_ = SteadyClock::time_point::max();
  std::map<SteadyClock::duration, std::unique_ptr<DeadlineList>> lists_;
  size_t armed_count_ = 0;
};

// The armed deadlines of one duration, oldest first (Watchdog's own).
struct DeadlineList {
  Deadline* head = nullptr;
  Deadline* tail = nullptr;
};

// A socket with a deadline (see above). A model of Asio's AsyncReadStream and AsyncWriteStream,
// so Beast's and Asio's composed operations take it; expires_after() and expires_never() as
// for beast::basic_stream.
template <typename Socket>
class DeadlineStream : private Deadline {
 public:
  using socket_type = Socket;
  using executor_type = typename Socket::executor_type;

  explicit DeadlineStream(Socket socket)
      : socket_(std::move(socket)), watchdog_(&WatchdogOf(socket_)) {}
  explicit DeadlineStream(asio::io_context& io) : socket_(io), watchdog_(&Watchdog::Of(io)) {}
  DeadlineStream(DeadlineStream&& other) noexcept
      : socket_(std::move(other.socket_)),
        watchdog_(other.watchdog_),
        timed_out_(other.timed_out_) {
    if (other.armed()) watchdog_->Replace(other, *this);
  }
  DeadlineStream& operator=(DeadlineStream&&) = delete;
  ~DeadlineStream() {
    if (armed()) watchdog_->Disarm(*this);
  }

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  Socket& socket() { return socket_; }

  void expires_after(SteadyClock::duration after) { watchdog_->Arm(*this, after); }
  void expires_never() { watchdog_->Disarm(*this); }
  // The deadline passed and the socket was closed.
  bool timed_out() const { return timed_out_; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }
  template <typename Endpoint, typename Token>
  auto async_connect(const Endpoint& endpoint, Token&& token) {
    return socket_.async_connect(endpoint, std::forward<Token>(token));
  }

 private:
  static Watchdog& WatchdogOf(Socket& socket) {
    return Watchdog::Of(asio::query(socket.get_executor(), asio::execution::context));
  }
  void Expire() override {
    timed_out_ = true;
    beast::error_code ignored;
    socket_.close(ignored);
  }

  Socket socket_;
  Watchdog* watchdog_;
  bool timed_out_ = false;
};

// `ec` as the operation on `stream` ended it: beast::error::timeout when a DeadlineStream's
// deadline had passed (its socket was closed under the operation). Beast's own streams report
// their timeouts themselves.
template <typename Stream>
beast::error_code TimeoutOr(const Stream& /*stream*/, beast::error_code ec) {
  return ec;
}
template <typename Socket>
beast::error_code TimeoutOr(const DeadlineStream<Socket>& stream, beast::error_code ec) {
  return ec && stream.timed_out() ? beast::error_code(beast::error::timeout) : ec;
}

}  // namespace axon::http
