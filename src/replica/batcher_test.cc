// Batcher with real time and threads. Intervals are short and every bound is generous: the
// assertions are about which items form a batch, not about speed.
#include "replica/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace axon::replica {
namespace {

using namespace std::chrono_literals;

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
