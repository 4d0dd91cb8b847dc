// Where Execution runs calls: inline on the calling thread while calls are cheap, on the pool
// otherwise, never more than `threads` at once. Call times come from a made-up clock, so
// "cheap" and "slow" are what the test says, whatever the machine's speed.
#include "replica/execution.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace axon::replica {
namespace {

namespace asio = http::asio;
using namespace std::chrono_literals;

// Each reading advances by `step` ns: a timed call (two readings) seems to take `step`.
struct FakeClock {
  std::atomic<int64_t> now{0};
  std::atomic<int64_t> step{1'000};  // 1 us: cheap
  Execution::Clock Reader() {
    return [this] { return now.fetch_add(step.load()) + step.load(); };
  }
};

// Runs one call through `run` in a coroutine on `io` (on this thread); true when the call ran
// on this thread, that is, inline.
bool RanInline(asio::io_context& io,
               const std::function<asio::awaitable<bool>(std::function<bool()>)>& run) {
  const auto here = std::this_thread::get_id();
  bool answer = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        answer = co_await run([here] { return std::this_thread::get_id() == here; });
      },
      asio::detached);
  io.run();
  io.restart();
  return answer;
}

TEST(ExecutionTest, FirstCallRunsOnThePoolThenCheapCallsRunInline) {
  FakeClock clock;
  Execution execution(1, 200us, clock.Reader());
  asio::io_context io;
  auto run = [&](std::function<bool()> fn) { return execution.Run<bool>(std::move(fn)); };
  EXPECT_FALSE(RanInline(io, run)) << "nothing is known about the predictor yet";
  EXPECT_EQ(execution.MeanNanos(), 1'000);
  EXPECT_TRUE(RanInline(io, run));
  EXPECT_TRUE(RanInline(io, run));
}

TEST(ExecutionTest, ASlowCallSendsLaterCallsToThePoolUntilTheMeanIsLowAgain) {
  FakeClock clock;
  Execution execution(1, 200us, clock.Reader());
  asio::io_context io;
  auto run = [&](std::function<bool()> fn) { return execution.Run<bool>(std::move(fn)); };
  RanInline(io, run);
  ASSERT_TRUE(RanInline(io, run));
  clock.step = 10'000'000;  // 10 ms
  EXPECT_TRUE(RanInline(io, run)) << "known cheap when it started";
  clock.step = 1'000;
  EXPECT_FALSE(RanInline(io, run)) << "mean " << execution.MeanNanos() << " ns";
  int on_pool = 1;
  while (!RanInline(io, run) && on_pool < 1000) ++on_pool;
  EXPECT_LT(on_pool, 1000) << "cheap calls on the pool bring the mean down";
  EXPECT_GT(on_pool, 10) << "one slow call weighs for more than a few cheap ones";
  EXPECT_LT(execution.MeanNanos(), 200'000);
}

TEST(ExecutionTest, OffloadAlwaysUsesThePool) {
  FakeClock clock;
  Execution execution(1, 200us, clock.Reader());
  asio::io_context io;
  auto run = [&](std::function<bool()> fn) { return execution.Run<bool>(std::move(fn)); };
  auto offload = [&](std::function<bool()> fn) { return execution.Offload<bool>(std::move(fn)); };
  RanInline(io, run);
  ASSERT_TRUE(RanInline(io, run));
  EXPECT_FALSE(RanInline(io, offload));
}

TEST(ExecutionTest, ExceptionsReachTheCallerInlineAndFromThePool) {
  FakeClock clock;
  Execution execution(1, 200us, clock.Reader());
  asio::io_context io;
  std::vector<std::string> caught;
  auto call_throwing = [&]() -> asio::awaitable<void> {
    try {
      co_await execution.Run<bool>([]() -> bool { throw std::runtime_error("boom"); });
    } catch (const std::runtime_error& e) {
      caught.push_back(e.what());
    }
  };
  for (int i = 0; i < 3; ++i) {  // the first on the pool, the others inline
    asio::co_spawn(io, call_throwing, asio::detached);
    io.run();
    io.restart();
  }
  EXPECT_EQ(caught, (std::vector<std::string>{"boom", "boom", "boom"}));
  EXPECT_EQ(execution.MeanNanos(), 1'000) << "calls that threw are timed too";
}

TEST(ExecutionTest, NeverMoreCallsAtOnceThanThreads) {
  FakeClock clock;  // every call cheap: inline whenever a slot is free
  constexpr int kThreads = 2;
  constexpr int kCalls = 400;
  Execution execution(kThreads, 200us, clock.Reader());
  asio::io_context io;
  RanInline(io, [&](std::function<bool()> fn) { return execution.Run<bool>(std::move(fn)); });
  std::atomic<int> running{0}, most{0}, done{0}, inline_calls{0};
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const auto caller = std::this_thread::get_id();
          co_await execution.Run<bool>([&, caller] {
            const int now = ++running;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            if (std::this_thread::get_id() == caller) ++inline_calls;
            std::this_thread::sleep_for(20us);  // overlap the calls; no timing is checked
            --running;
            return true;
          });
          ++done;
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), kCalls);
  EXPECT_LE(most.load(), kThreads);
  EXPECT_GT(inline_calls.load(), 0);
}

}  // namespace
}  // namespace axon::replica
