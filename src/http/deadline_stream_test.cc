// Deadlines of DeadlineStream and its Watchdog, on real Unix socket pairs. The deadlines are tens
// of milliseconds; the tests check what happens (which deadline passed, in which order, the
// error a read gets), never how fast.
#include "http/deadline_stream.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace axon::http {
namespace {

using namespace std::chrono_literals;
using Stream = DeadlineStream<IoSocket<local_stream>>;

class RecordingDeadline final : public Deadline {
 public:
  RecordingDeadline(std::string name, std::vector<std::string>& expired)
      : name_(std::move(name)), expired_(expired) {}
  SteadyClock::time_point expired_at() const { return expired_at_; }

 private:
  void Expire() override {
    expired_at_ = SteadyClock::now();
    expired_.push_back(name_);
  }
  std::string name_;
  std::vector<std::string>& expired_;
  SteadyClock::time_point expired_at_{};
};

// Runs `body` as a coroutine on `io` until it returns.
void RunToEnd(asio::io_context& io, std::function<asio::awaitable<void>()> body) {
  asio::co_spawn(io, std::move(body), asio::detached);
  io.run();
  io.restart();
}

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Waits until `done()` or 10 s have passed.
asio::awaitable<void> SleepUntil(const std::function<bool()>& done) {
  for (int i = 0; i < 2000 && !done(); ++i) co_await Sleep(5ms);
}

TEST(WatchdogTest, ExpiresDeadlinesOfEveryDurationInTheirOrder) {
  asio::io_context io;
  std::vector<std::string> expired;
  RecordingDeadline late("late", expired), early("early", expired), middle("middle", expired),
      disarmed("disarmed", expired), rearmed("rearmed", expired);
  Watchdog& watchdog = Watchdog::Of(io);
  RunToEnd(io, [&]() -> asio::awaitable<void> {
    watchdog.Arm(late, 1s);
    watchdog.Arm(early, 20ms);  // earlier than what the timer waits for: the timer moves
    watchdog.Arm(middle, 40ms);
    watchdog.Arm(rearmed, 5ms);
    watchdog.Arm(disarmed, 10ms);
    watchdog.Disarm(disarmed);
    watchdog.Arm(rearmed, 2s);  // again, later: it leaves its first place
    EXPECT_EQ(watchdog.armed_count(), 4U);
    co_await SleepUntil([&] { return expired.size() == 4; });
  });
  EXPECT_EQ(expired, (std::vector<std::string>{"early", "middle", "late", "rearmed"}));
  // The timer did not wait for the deadline armed first (a second apart on purpose).
  EXPECT_LT(early.expired_at(), late.at());
  EXPECT_EQ(watchdog.armed_count(), 0U);
  EXPECT_FALSE(disarmed.armed());
}

TEST(DeadlineStreamTest, AReadOnASilentPeerTimesOut) {
  asio::io_context io;
  IoSocket<local_stream> ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  Stream stream(std::move(ours));
  beast::error_code ec;
  RunToEnd(io, [&]() -> asio::awaitable<void> {
    stream.expires_after(20ms);
    char byte;
    co_await stream.async_read_some(asio::buffer(&byte, 1),
                                    asio::redirect_error(asio::use_awaitable, ec));
  });
  EXPECT_TRUE(stream.timed_out());
  EXPECT_EQ(TimeoutOr(stream, ec), beast::error::timeout) << ec.message();
  EXPECT_FALSE(stream.socket().is_open());
}

TEST(DeadlineStreamTest, AnUnarmedOrLaterDeadlineLetsTheReadFinish) {
  asio::io_context io;
  IoSocket<local_stream> ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  Stream stream(std::move(ours));
  beast::error_code ec;
  size_t n = 0;
  RunToEnd(io, [&]() -> asio::awaitable<void> {
    stream.expires_after(20ms);
    stream.expires_after(30s);  // replaces the first
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await Sleep(100ms);  // past the first deadline
          co_await asio::async_write(theirs, asio::buffer("x", 1), asio::use_awaitable);
        },
        asio::detached);
    char byte;
    n = co_await stream.async_read_some(asio::buffer(&byte, 1),
                                        asio::redirect_error(asio::use_awaitable, ec));
    stream.expires_never();
  });
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 1U);
  EXPECT_FALSE(stream.timed_out());
  EXPECT_EQ(Watchdog::Of(io).armed_count(), 0U);
}

TEST(DeadlineStreamTest, AMovedStreamKeepsItsDeadline) {
  asio::io_context io;
  IoSocket<local_stream> ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  Stream first(std::move(ours));
  beast::error_code ec;
  std::optional<Stream> second;
  RunToEnd(io, [&]() -> asio::awaitable<void> {
    first.expires_after(20ms);
    second.emplace(std::move(first));
    EXPECT_EQ(Watchdog::Of(io).armed_count(), 1U);
    char byte;
    co_await second->async_read_some(asio::buffer(&byte, 1),
                                     asio::redirect_error(asio::use_awaitable, ec));
  });
  EXPECT_EQ(TimeoutOr(*second, ec), beast::error::timeout) << ec.message();
  EXPECT_FALSE(first.timed_out());
}

TEST(DeadlineStreamTest, AnArmedDeadlineDoesNotKeepTheLoopRunning) {
  asio::io_context io;
  IoSocket<local_stream> ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  Stream stream(std::move(ours));
  const auto start = SteadyClock::now();
  RunToEnd(io, [&]() -> asio::awaitable<void> {
    stream.expires_after(1h);
    co_return;
  });
  // run() returned with nothing pending but the deadline: the test did not wait an hour.
  EXPECT_LT(SteadyClock::now() - start, 30min);
  EXPECT_TRUE(stream.socket().is_open());
  stream.expires_never();
}

}  // namespace
}  // namespace axon::http
