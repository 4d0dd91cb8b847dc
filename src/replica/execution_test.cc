// Where Execution runs calls: inline on the calling thread while calls are cheap and the thread
// has time to spare, on the pool otherwise, never more than `threads` at once. Wall and CPU
// time come from made-up clocks that the calls and the test advance, so "cheap", "slow" and
// "busy" are what the test says, whatever the machine's speed.
#include "replica/execution.h"

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

struct FakeClocks {
  std::atomic<int64_t> wall{0};
  std::atomic<int64_t> cpu{0};  // the calling thread's CPU time
  Execution::Clocks Readers() {
    return {[this] { return wall.load(); }, [this] { return cpu.load(); }};
  }
};

class ExecutionTest : public ::testing::Test {
 protected:
  // Runs one call through Run() (or Offload()) in a coroutine on `io_` (on this thread); the
  // call takes `took` of wall time, and the thread `cpu_share` thousandths of it. True when the
  // call ran on this thread, that is, inline.
  bool Call(Execution& execution, std::chrono::nanoseconds took = 1us, int cpu_share = 100,
            bool offload = false) {
    const auto here = std::this_thread::get_id();
    std::function<bool()> fn = [this, here, took, cpu_share] {
      clocks_.wall += took.count();
      clocks_.cpu += took.count() * cpu_share / 1000;
      return std::this_thread::get_id() == here;
    };
    bool answer = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          answer =
              offload ? co_await execution.Offload<bool>(fn) : co_await execution.Run<bool>(fn);
        },
        asio::detached);
    io_.run();
    io_.restart();
    return answer;
  }
  // Time passing between calls: `gap` of wall time, `cpu_share` thousandths of it on the CPU.
  void Pass(std::chrono::nanoseconds gap, int cpu_share = 100) {
    clocks_.wall += gap.count();
    clocks_.cpu += gap.count() * cpu_share / 1000;
  }

  FakeClocks clocks_;
  asio::io_context io_;
};

TEST_F(ExecutionTest, FirstCallRunsOnThePoolThenCheapCallsRunInline) {
  Execution execution(1, 200us, clocks_.Readers());
  EXPECT_FALSE(Call(execution)) << "nothing is known about the predictor yet";
  EXPECT_EQ(execution.MeanNanos(), 1'000);
  EXPECT_TRUE(Call(execution));
  EXPECT_TRUE(Call(execution));
}

TEST_F(ExecutionTest, ASlowCallSendsLaterCallsToThePoolUntilTheMeanIsLowAgain) {
  Execution execution(1, 200us, clocks_.Readers());
  Call(execution);
  ASSERT_TRUE(Call(execution));
  EXPECT_TRUE(Call(execution, 10ms)) << "known cheap when it started";
  EXPECT_FALSE(Call(execution)) << "mean " << execution.MeanNanos() << " ns";
  int on_pool = 1;
  while (!Call(execution) && on_pool < 1000) ++on_pool;
  EXPECT_LT(on_pool, 1000) << "cheap calls on the pool bring the mean down";
  EXPECT_GT(on_pool, 10) << "one slow call weighs for more than a few cheap ones";
  EXPECT_LT(execution.MeanNanos(), 200'000);
}

TEST_F(ExecutionTest, ABusyThreadSendsCallsToThePoolUntilTheLoadFalls) {
  Execution execution(1, 200us, clocks_.Readers());
  Call(execution);
  ASSERT_TRUE(Call(execution));
  // The thread on the CPU 90% of the time: the rest of its work is what limits the replica.
  int calls = 0;
  while (Call(execution, 50us, 900) && calls < 1000) {
    Pass(50us, 900);
    ++calls;
  }
  EXPECT_LT(calls, 1000) << "load " << execution.LoadPermille() << "/1000";
  EXPECT_GE(execution.LoadPermille(), Execution::kPoolFromPermille);
  EXPECT_GT(calls, 10) << "the load is measured over a window, not one call";
  // On the pool, its calls still count as the thread's load: the thread's own work is 40% of
  // the time, and the calls, which would come back to it, another 50%. Calls stay there.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(Call(execution, 50us, 0)) << "call " << i;
    Pass(50us, 800);
  }
  // The load falls to 10%: calls come back inline.
  calls = 0;
  while (!Call(execution, 50us, 100) && calls < 1000) {
    Pass(1ms, 100);
    ++calls;
  }
  EXPECT_LT(calls, 1000) << "load " << execution.LoadPermille() << "/1000";
  EXPECT_LT(execution.LoadPermille(), Execution::kPoolFromPermille);
}

// A caller with workers of its own (the batcher) asks InlineNow() and reports every call's
// time: calls it ran elsewhere count in the mean and in the load, as pooled calls do.
TEST_F(ExecutionTest, CallsObservedElsewhereCountInTheMeanAndTheLoad) {
  Execution mean(1, 200us, clocks_.Readers());
  EXPECT_FALSE(mean.InlineNow()) << "nothing is known yet";
  mean.Observe(50'000, /*elsewhere=*/true);
  EXPECT_TRUE(mean.InlineNow());
  mean.Observe(10'000'000, /*elsewhere=*/true);  // one slow batch
  EXPECT_FALSE(mean.InlineNow()) << "mean " << mean.MeanNanos() << " ns";

  // Cheap calls elsewhere 90% of the time, this thread on the CPU 10%: the load is the sum.
  Execution load(1, 200us, clocks_.Readers());
  load.Observe(50'000, /*elsewhere=*/true);
  int windows = 0;
  while (load.InlineNow() && windows < 100) {
    for (int i = 0; i < 360; ++i) load.Observe(50'000, /*elsewhere=*/true);  // 18 ms
    Pass(20ms, 100);
    ++windows;
  }
  EXPECT_LT(windows, 100) << "load " << load.LoadPermille() << "/1000";
  EXPECT_GE(load.LoadPermille(), Execution::kPoolFromPermille);
  EXPECT_LT(load.MeanNanos(), 200'000);
}

TEST_F(ExecutionTest, OffloadAlwaysUsesThePool) {
  Execution execution(1, 200us, clocks_.Readers());
  Call(execution);
  ASSERT_TRUE(Call(execution));
  EXPECT_FALSE(Call(execution, 1us, 100, /*offload=*/true));
}

TEST_F(ExecutionTest, ExceptionsReachTheCallerInlineAndFromThePool) {
  Execution execution(1, 200us, clocks_.Readers());
  std::vector<std::string> caught;
  auto call_throwing = [&]() -> asio::awaitable<void> {
    try {
      co_await execution.Run<bool>([this]() -> bool {
        clocks_.wall += 1'000;
        throw std::runtime_error("boom");
      });
    } catch (const std::runtime_error& e) {
      caught.push_back(e.what());
    }
  };
  for (int i = 0; i < 3; ++i) {  // the first on the pool, the others inline
    asio::co_spawn(io_, call_throwing, asio::detached);
    io_.run();
    io_.restart();
  }
  EXPECT_EQ(caught, (std::vector<std::string>{"boom", "boom", "boom"}));
  EXPECT_EQ(execution.MeanNanos(), 1'000) << "calls that threw are timed too";
}

TEST_F(ExecutionTest, NeverMoreCallsAtOnceThanThreads) {
  constexpr int kThreads = 2;
  constexpr int kCalls = 400;
  Execution execution(kThreads, 200us, clocks_.Readers());  // every call cheap, no load
  Call(execution);
  std::atomic<int> running{0}, most{0}, done{0}, inline_calls{0};
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io_,
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
  for (int i = 0; i < 4; ++i) threads.emplace_back([this] { io_.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), kCalls);
  EXPECT_LE(most.load(), kThreads);
  EXPECT_GT(inline_calls.load(), 0);
}

}  // namespace
}  // namespace axon::replica
