#include "operator/api_history.h"

#include <gtest/gtest.h>

#include "common/histogram.h"
#include "operator/ring_buffer.h"

namespace axon::operator_ {
namespace {

TEST(RingBufferTest, KeepsTheNewestCapacityValues) {
  RingBuffer<int> ring(3);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.capacity(), 3U);
  ring.Push(1);
  ring.Push(2);
  ASSERT_EQ(ring.size(), 2U);
  EXPECT_EQ(ring[0], 1);
  EXPECT_EQ(ring.back(), 2);
  for (int i = 3; i <= 7; ++i) ring.Push(i);
  ASSERT_EQ(ring.size(), 3U);
  EXPECT_EQ(ring[0], 5);
  EXPECT_EQ(ring[1], 6);
  EXPECT_EQ(ring[2], 7);
  EXPECT_EQ(ring.back(), 7);
}

// Gateway counters of an API: `ok` 2XX, `bad` 5XX answers, each latency in the 1 ms..2.5 ms
// bucket (index 4 of kLatencyBoundsUs) and 2 ms long.
contract::ApiStats Stats(uint64_t ok, uint64_t bad, int64_t in_flight = 0) {
  contract::ApiStats s;
  s.responses_2xx = ok;
  s.responses_5xx = bad;
  s.latency_buckets.assign(kLatencyBoundsUs.size() + 1, 0);
  s.latency_buckets[4] = ok + bad;
  s.latency_us_total = (ok + bad) * 2000;
  s.in_flight = in_flight;
  return s;
}

ApiSample Sample(contract::ApiStats stats, uint64_t ticks, int64_t pid = 40) {
  return {.api = "iris",
          .ready = 2,
          .requested = 3,
          .stats = std::move(stats),
          .replicas = {{.id = "iris-a", .pid = pid, .usage = ProcUsage{ticks, 64 << 20}},
                       {.id = "iris-b", .pid = 0, .usage = std::nullopt}}};
}

TEST(ApiHistoryTest, RatesQuantilesAndCpuFromTwoSamples) {
  ApiHistory history(/*ticks_per_second=*/100);
  history.Record(10'000, {Sample(Stats(100, 0), 500)});
  EXPECT_TRUE(history.Points("iris").empty());  // the first pass is the baseline
  // 5 s later: 40 more 2XX and 10 more 5XX; 250 ticks = 2.5 s of CPU = 50% of a core.
  history.Record(15'000, {Sample(Stats(140, 10, 3), 750)});
  const auto points = history.Points("iris");
  ASSERT_EQ(points.size(), 1U);
  const HistoryPoint& p = points[0];
  EXPECT_EQ(p.unix_ms, 15'000);
  EXPECT_EQ(p.interval_ms, 5'000);
  EXPECT_EQ(p.answers_2xx, 40U);
  EXPECT_EQ(p.answers_4xx, 0U);
  EXPECT_EQ(p.answers_5xx, 10U);
  EXPECT_DOUBLE_EQ(p.PerSecond(p.Answers()), 10.0);
  EXPECT_DOUBLE_EQ(p.PerSecond(p.answers_5xx), 2.0);
  EXPECT_EQ(p.in_flight, 3);
  EXPECT_EQ(p.ready, 2);
  EXPECT_EQ(p.requested, 3);
  // 50 answers in (1 ms, 2.5 ms]: the median is interpolated to 1.75 ms, the average is 2 ms.
  EXPECT_DOUBLE_EQ(p.p50_ms, 1.75);
  EXPECT_DOUBLE_EQ(p.p90_ms, 2.35);
  EXPECT_DOUBLE_EQ(p.avg_ms, 2.0);
  ASSERT_EQ(p.replicas.size(), 1U);  // iris-b has no usage (not a local process)
  EXPECT_EQ(p.replicas[0].id, "iris-a");
  EXPECT_DOUBLE_EQ(p.replicas[0].cpu_percent, 50.0);
  EXPECT_EQ(p.replicas[0].rss_bytes, 64U << 20);
  EXPECT_DOUBLE_EQ(history.ErrorRate("iris", 60'000), 0.2);
  const auto json = history.Json("iris", 5000);
  EXPECT_EQ(json["answers_5xx"][0], 10);
  EXPECT_EQ(json["requests_per_s"][0], 10.0);
  EXPECT_EQ(json["rate_2xx"][0], 8.0);
}

TEST(ApiHistoryTest, NoAnswersNoQuantilesAndARestartedReplicaHasNoCpuYet) {
  ApiHistory history(100);
  history.Record(0, {Sample(Stats(5, 0), 500)});
  history.Record(5'000, {Sample(Stats(5, 0), 900, /*pid=*/41)});
  const HistoryPoint p = history.Points("iris").at(0);
  EXPECT_EQ(p.Answers(), 0U);
  EXPECT_LT(p.p50_ms, 0);
  EXPECT_LT(p.avg_ms, 0);
  EXPECT_LT(p.replicas.at(0).cpu_percent, 0);  // a new pid: no baseline
  EXPECT_LT(history.ErrorRate("iris", 60'000), 0);
  const auto json = history.Json("iris", 5000);
  EXPECT_TRUE(json["p50_ms"][0].is_null());
  EXPECT_TRUE(json["replicas"]["iris-a"]["cpu_percent"][0].is_null());
  EXPECT_EQ(json["replicas"]["iris-a"]["rss_bytes"][0], 64 << 20);
}

TEST(ApiHistoryTest, ABegunApiCountsFromZero) {
  ApiHistory history(100);
  history.Record(0, {Sample(Stats(9, 0), 0)});  // an API of that name, deleted since
  history.Begin("iris", 1'000);                 // created (again) at 1 s
  history.Record(2'000, {Sample(Stats(6, 2), 100)});
  const auto points = history.Points("iris");
  ASSERT_EQ(points.size(), 1U);
  EXPECT_EQ(points[0].answers_2xx, 6U);
  EXPECT_EQ(points[0].answers_5xx, 2U);
  EXPECT_EQ(points[0].interval_ms, 1'000);
  EXPECT_DOUBLE_EQ(points[0].avg_ms, 2.0);
  EXPECT_LT(points[0].replicas.at(0).cpu_percent, 0);  // no CPU baseline yet
}

TEST(ApiHistoryTest, CountersThatStartOverCountFromZero) {
  ApiHistory history(100);
  history.Record(0, {Sample(Stats(1000, 0), 0)});
  history.Record(1'000, {Sample(Stats(7, 0), 0)});  // the gateway restarted
  const HistoryPoint p = history.Points("iris").at(0);
  EXPECT_EQ(p.answers_2xx, 7U);
  EXPECT_DOUBLE_EQ(p.avg_ms, 2.0);
}

TEST(ApiHistoryTest, FixedCapacityAndForgottenApis) {
  ApiHistory history(100, /*capacity=*/4);
  for (int64_t i = 0; i < 10; ++i) history.Record(i * 1000, {Sample(Stats(i * 10, 0), 0)});
  const auto points = history.Points("iris");
  ASSERT_EQ(points.size(), 4U);
  EXPECT_EQ(points.front().unix_ms, 6'000);
  EXPECT_EQ(points.back().unix_ms, 9'000);
  const auto json = history.Json("iris", 1000);
  EXPECT_EQ(json["t"].size(), 4U);
  EXPECT_EQ(json["requests_per_s"][3], 10.0);  // 10 answers in 1 s
  EXPECT_EQ(json["interval_ms"], 1000);
  history.Record(10'000, {});  // the API is gone
  EXPECT_TRUE(history.Points("iris").empty());
  EXPECT_TRUE(history.Json("iris", 1000)["t"].empty());
}

TEST(ApiHistoryTest, AnApiBegunDuringAPassIsKept) {
  ApiHistory history(100);
  history.Begin("iris", 5'000);
  history.Record(4'990, {});  // the pass looked at the APIs before the deploy
  history.Record(6'000, {Sample(Stats(4, 0), 0)});
  ASSERT_EQ(history.Points("iris").size(), 1U);
  EXPECT_EQ(history.Points("iris")[0].answers_2xx, 4U);
}

}  // namespace
}  // namespace axon::operator_
