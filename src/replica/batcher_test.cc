// Batcher with real time and threads. Intervals are short and every bound is generous: the
// assertions are about which items form a batch, not about speed.
#include "replica/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace axon::replica {
namespace {

using namespace std::chrono_literals;
using Clock = BatchPolicy::Clock;

// --- The policy, with made-up times ---

TEST(BatchPolicy, AdaptiveTakesALoneItemAtOnce) {
  const BatchPolicy adaptive{.max_batch_size = 8, .interval = Clock::duration::zero()};
  const Clock::time_point t0{};
  Clock::time_point due{};
  EXPECT_EQ(adaptive.Take(1, t0, t0, &due), 1u);  // no waiting: it arrived this instant
  EXPECT_EQ(adaptive.Take(0, t0, t0, &due), 0u);
}

TEST(BatchPolicy, AdaptiveTakesWhatIsQueuedUpToTheMax) {
  const BatchPolicy adaptive{.max_batch_size = 4, .interval = Clock::duration::zero()};
  const Clock::time_point t0{};
  Clock::time_point due{};
  EXPECT_EQ(adaptive.Take(3, t0, t0 + 1ms, &due), 3u);
  EXPECT_EQ(adaptive.Take(10, t0, t0 + 1ms, &due), 4u);
}

TEST(BatchPolicy, FixedIntervalWaitsForTheBatchToFill) {
  const BatchPolicy fixed{.max_batch_size = 4, .interval = 10ms};
  const Clock::time_point t0 = Clock::time_point{} + 1s;
  Clock::time_point due{};
  EXPECT_EQ(fixed.Take(1, t0, t0 + 3ms, &due), 0u);
  EXPECT_EQ(due, t0 + 10ms);
  EXPECT_EQ(fixed.Take(3, t0, t0 + 9ms, &due), 0u);
  EXPECT_EQ(fixed.Take(3, t0, t0 + 10ms, &due), 3u);  // due
  EXPECT_EQ(fixed.Take(4, t0, t0 + 1ms, &due), 4u);   // full before it is due
  EXPECT_EQ(fixed.Take(9, t0, t0 + 1ms, &due), 4u);   // never more than the max
}

// --- The batcher, with real threads ---

// Adaptive: while the one worker runs a batch, arrivals queue; the next batch takes them all
// (up to the max). The first batch is held until the test has queued the others, so which
// items form a batch does not depend on timing.
TEST(Batcher, AdaptiveBatchesTakeWhatQueuedWhileTheWorkerRan) {
  std::mutex mu;
  std::vector<std::vector<int>> batches;
  std::promise<void> first_running, release_first, all_done;
  auto release = release_first.get_future().share();
  int seen = 0;
  {
    Batcher<int> batcher(4, Clock::duration::zero(), 1, [&](std::vector<int>& batch) {
      bool first = false;
      {
        std::lock_guard lock(mu);
        first = batches.empty();
        batches.push_back(batch);
        seen += static_cast<int>(batch.size());
        if (seen == 7) all_done.set_value();
      }
      if (first) {
        first_running.set_value();
        release.wait();
      }
    });
    batcher.Submit(0);  // alone on an idle batcher: runs at once, by itself
    ASSERT_EQ(first_running.get_future().wait_for(5s), std::future_status::ready);
    for (int i = 1; i < 7; ++i) batcher.Submit(i);
    release_first.set_value();
    ASSERT_EQ(all_done.get_future().wait_for(5s), std::future_status::ready);
  }
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{0}, {1, 2, 3, 4}, {5, 6}}));
}

// A caller may run a lone item itself only on an idle adaptive batcher; while it does, the
// claim counts as the one worker's batch: arrivals wait for it, then leave together.
TEST(Batcher, AClaimedIdleBatcherHoldsArrivalsUntilTheClaimEnds) {
  std::mutex mu;
  std::vector<std::string> events;
  std::vector<std::vector<int>> batches;
  std::promise<void> done;
  {
    Batcher<int> batcher(4, Clock::duration::zero(), 1, [&](std::vector<int>& batch) {
      std::lock_guard lock(mu);
      events.push_back("batch");
      batches.push_back(batch);
      if (batches.size() == 1) done.set_value();
    });
    ASSERT_TRUE(batcher.TryClaimIdle());
    EXPECT_FALSE(batcher.TryClaimIdle());  // one batch runs already: the worker's turn is taken
    batcher.Submit(1);
    batcher.Submit(2);
    std::this_thread::sleep_for(50ms);  // time for a wrong batcher to run them meanwhile
    {
      std::lock_guard lock(mu);
      events.push_back("claim ended");
    }
    EXPECT_FALSE(batcher.TryClaimIdle());  // items are queued
    batcher.EndClaim();
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }
  EXPECT_EQ(events, (std::vector<std::string>{"claim ended", "batch"}));
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{1, 2}}));
}

TEST(Batcher, NoClaimWhileAWorkerRunsOrWithAFixedInterval) {
  std::promise<void> running, release;
  auto released = release.get_future().share();
  Batcher<int> adaptive(4, Clock::duration::zero(), 1, [&](std::vector<int>&) {
    running.set_value();
    released.wait();
  });
  adaptive.Submit(1);
  ASSERT_EQ(running.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(adaptive.TryClaimIdle());
  release.set_value();

  Batcher<int> fixed(4, 10ms, 1, [](std::vector<int>&) {});
  EXPECT_FALSE(fixed.TryClaimIdle());  // a lone item waits for company under Cortex's policy
}

TEST(Batcher, FullBatchesLeaveWithoutWaitingForTheInterval) {
  std::mutex mu;
  std::vector<size_t> sizes;
  std::promise<void> done;
  std::atomic<int> seen{0};
  {
    Batcher<int> batcher(4, 10s, 1, [&](std::vector<int>& batch) {
      std::lock_guard lock(mu);
      sizes.push_back(batch.size());
      if ((seen += static_cast<int>(batch.size())) == 8) done.set_value();
    });
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) batcher.Submit(i);
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // far below the 10 s interval
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4}));
}

TEST(Batcher, ALoneItemLeavesAfterTheInterval) {
  std::promise<std::chrono::steady_clock::time_point> ran;
  Batcher<int> batcher(32, 50ms, 2, [&](std::vector<int>& batch) {
    EXPECT_EQ(batch.size(), 1u);
    ran.set_value(std::chrono::steady_clock::now());
  });
  const auto start = std::chrono::steady_clock::now();
  batcher.Submit(7);
  auto future = ran.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  const auto waited = future.get() - start;
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 500ms);  // 10x the interval
}

TEST(Batcher, NeverExceedsMaxAndLosesNothing) {
  constexpr int kItems = 1000;
  std::atomic<int> total{0};
  std::atomic<size_t> largest{0};
  std::vector<std::atomic<int>> hits(kItems);
  {
    Batcher<int> batcher(7, 1ms, 2, [&](std::vector<int>& batch) {
      size_t seen = largest.load();
      while (batch.size() > seen && !largest.compare_exchange_weak(seen, batch.size())) {
      }
      for (int i : batch) hits[i]++;
      total += static_cast<int>(batch.size());
    });
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&, p] {
        for (int i = p; i < kItems; i += 4) batcher.Submit(i);
      });
    }
    for (auto& t : producers) t.join();
  }  // the destructor runs what is queued
  EXPECT_EQ(total.load(), kItems);
  EXPECT_LE(largest.load(), 7u);
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
}

}  // namespace
}  // namespace axon::replica
