#include "gateway/traffic_split.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "gateway/route_table.h"

namespace axon::gateway {
namespace {

using contract::SplitRoute;

// How many of `n` requests each entry gets, and how many are copied to the shadow.
struct Counts {
  std::map<size_t, int> primary;
  int copied = 0;
};

Counts Tally(const TrafficSplit& split, int n, std::atomic<uint64_t>& counter) {
  Counts counts;
  for (int i = 0; i < n; ++i) {
    const auto choice = split.Choose(counter);
    counts.primary[choice.primary]++;
    counts.copied += choice.shadow.has_value() ? 1 : 0;
  }
  return counts;
}

TEST(TrafficSplitTest, EveryHundredRequestsFollowTheWeightsExactly) {
  const TrafficSplit split({{"a", 70, false}, {"b", 20, false}, {"c", 10, false}});
  std::atomic<uint64_t> counter{0};
  for (int cycle = 0; cycle < 3; ++cycle) {
    Counts counts = Tally(split, 100, counter);
    EXPECT_EQ(counts.primary[0], 70);
    EXPECT_EQ(counts.primary[1], 20);
    EXPECT_EQ(counts.primary[2], 10);
    EXPECT_EQ(counts.copied, 0);
  }
}

TEST(TrafficSplitTest, SmallWeightsAreSpreadOutNotBunched) {
  const TrafficSplit split({{"a", 90, false}, {"b", 10, false}});
  std::atomic<uint64_t> counter{0};
  // In any 10 consecutive requests, b gets exactly one.
  std::vector<size_t> picks;
  for (int i = 0; i < 100; ++i) picks.push_back(split.Choose(counter).primary);
  for (size_t start = 0; start + 10 <= picks.size(); ++start) {
    int b = 0;
    for (size_t i = start; i < start + 10; ++i) b += picks[i] == 1 ? 1 : 0;
    EXPECT_EQ(b, 1) << "window starting at " << start;
  }
}

TEST(TrafficSplitTest, ZeroWeightGetsNothing) {
  const TrafficSplit split({{"a", 100, false}, {"b", 0, false}});
  std::atomic<uint64_t> counter{0};
  EXPECT_EQ(Tally(split, 250, counter).primary[0], 250);
}

TEST(TrafficSplitTest, ShadowGetsItsShareOfCopiesEvenlySpaced) {
  const TrafficSplit split({{"a", 50, false}, {"s", 25, true}, {"b", 50, false}});
  std::atomic<uint64_t> counter{0};
  Counts counts = Tally(split, 400, counter);
  EXPECT_EQ(counts.primary[0], 200);
  EXPECT_EQ(counts.primary[2], 200);
  EXPECT_EQ(counts.primary.count(1), 0u);  // the shadow never answers a request
  EXPECT_EQ(counts.copied, 100);
  // Every fourth request, not 25 in a row.
  std::atomic<uint64_t> again{0};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(split.Choose(again).shadow.has_value(), i % 4 == 3) << "request " << i;
  }
}

TEST(TrafficSplitTest, ShadowWithDefaultWeightCopiesEveryRequest) {
  const TrafficSplit split({{"s", 100, true}, {"a", 100, false}});
  std::atomic<uint64_t> counter{0};
  Counts counts = Tally(split, 300, counter);
  EXPECT_EQ(counts.primary[1], 300);
  EXPECT_EQ(counts.copied, 300);
}

TEST(TrafficSplitTest, ConcurrentCallersShareOneCycle) {
  const TrafficSplit split({{"a", 30, false}, {"b", 70, false}});
  std::atomic<uint64_t> counter{0};
  std::atomic<int> a{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) a += split.Choose(counter).primary == 0 ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.load(), 3000);  // 10000 requests: exactly 100 whole cycles
}

contract::RouteTable SplitterTable(std::vector<SplitRoute> split) {
  contract::RouteTable routes;
  routes.apis.push_back({.name = "a", .endpoint = "/a"});
  routes.apis.push_back({.name = "b", .endpoint = "/b"});
  routes.apis.push_back({.name = "s", .endpoint = "/s", .split = std::move(split)});
  return routes;
}

TEST(TrafficSplitTest, RouteTableResolvesTargetsAndKeepsTheCycleAcrossTables) {
  auto first = RouteTable::Build(SplitterTable({{"a", 50, false}, {"b", 50, false}}), nullptr);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const ApiRoute& splitter = *(*first)->Find("/s");
  EXPECT_EQ(splitter.ChooseSplit().primary, (*first)->Find("/a"));
  // A new table carries the splitter's counter: the next pick continues the cycle.
  auto second =
      RouteTable::Build(SplitterTable({{"a", 50, false}, {"b", 50, false}}), first->get());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->Find("/s")->ChooseSplit().primary, (*second)->Find("/b"));
}

TEST(TrafficSplitTest, MissingTargetAndSplitterTargetAreNotRouted) {
  auto table = RouteTable::Build(SplitterTable({{"gone", 50, false}, {"s", 50, false}}), nullptr);
  ASSERT_TRUE(table.ok());
  const ApiRoute& splitter = *(*table)->Find("/s");
  const SplitChoice first = splitter.ChooseSplit();
  EXPECT_EQ(first.primary, nullptr);
  EXPECT_EQ(first.primary_name, "gone");
  EXPECT_EQ(splitter.ChooseSplit().primary, nullptr);  // itself: never followed
}

TEST(TrafficSplitTest, ContractRejectsWeightsThatDoNotSumTo100) {
  nlohmann::json json = contract::ToJson(SplitterTable({{"a", 50, false}, {"b", 40, false}}));
  auto routes = contract::RouteTableFromJson(json);
  ASSERT_FALSE(routes.ok());
  EXPECT_NE(routes.status().message().find("apis[2].split"), std::string::npos);
  json = contract::ToJson(SplitterTable({{"a", 100, false}, {"b", 10, true}}));
  routes = contract::RouteTableFromJson(json);
  ASSERT_TRUE(routes.ok()) << routes.status().message();
  EXPECT_EQ(routes->apis[2].split[1], (SplitRoute{"b", 10, true}));
}

}  // namespace
}  // namespace axon::gateway
