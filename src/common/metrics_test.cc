// The histogram and the exposition writer (common/histogram.h, common/exposition.h).
#include <array>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/exposition.h"
#include "common/histogram.h"

namespace axon {
namespace {

constexpr std::array<uint64_t, 3> kBounds = {10, 20, 40};

TEST(Histogram, CountsEachValueInTheFirstBucketThatHoldsIt) {
  Histogram h(kBounds);
  for (uint64_t v : {0, 10, 11, 20, 39, 41, 1000}) h.Observe(v);
  const HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 1, 2}));
  EXPECT_EQ(s.Count(), 7u);
  EXPECT_EQ(s.sum, 0u + 10 + 11 + 20 + 39 + 41 + 1000);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h(kBounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe(static_cast<uint64_t>(i % 50));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.Snapshot().Count(), 40000u);
}

TEST(Histogram, QuantilesInterpolateInsideTheirBucket) {
  Histogram h(kBounds);
  EXPECT_EQ(h.Snapshot().Quantile(0.5), -1);   // nothing observed
  for (int i = 0; i < 10; ++i) h.Observe(15);  // all in (10, 20]
  EXPECT_DOUBLE_EQ(h.Snapshot().Quantile(0.5), 15);
  EXPECT_DOUBLE_EQ(h.Snapshot().Quantile(1.0), 20);
  h.Observe(100);  // +Inf bucket: the highest bound
  EXPECT_DOUBLE_EQ(h.Snapshot().Quantile(0.99), 40);
}

TEST(Histogram, MinusLeavesTheObservationsInBetween) {
  Histogram h(kBounds);
  h.Observe(5);
  const HistogramSnapshot before = h.Snapshot();
  h.Observe(30);
  h.Observe(30);
  const HistogramSnapshot delta = h.Snapshot().Minus(before);
  EXPECT_EQ(delta.counts, (std::vector<uint64_t>{0, 0, 2, 0}));
  EXPECT_EQ(delta.sum, 60u);
}

TEST(Histogram, AddSumsTheObservationsOfTwoSnapshots) {
  Histogram a(kBounds);
  Histogram b(kBounds);
  a.Observe(5);
  b.Observe(30);
  b.Observe(1000);
  HistogramSnapshot total = a.Snapshot();
  total.Add(b.Snapshot());
  EXPECT_EQ(total.counts, (std::vector<uint64_t>{1, 0, 1, 1}));
  EXPECT_EQ(total.sum, 1035u);
  EXPECT_EQ(total.Count(), 3u);
}

TEST(Exposition, WritesHelpTypeAndEscapedLabels) {
  Exposition out;
  out.Family("axon_things_total", "counter", "Things seen.\nSecond line \\ here");
  out.Sample("axon_things_total", {{"api", "a\"b\\c\nd"}, {"code", "200"}}, 3);
  out.Sample("axon_things_total", {}, 0.5);
  EXPECT_EQ(out.text(),
            "# HELP axon_things_total Things seen.\\nSecond line \\\\ here\n"
            "# TYPE axon_things_total counter\n"
            "axon_things_total{api=\"a\\\"b\\\\c\\nd\",code=\"200\"} 3\n"
            "axon_things_total 0.5\n");
}

TEST(Exposition, HistogramsHaveCumulativeBucketsSumAndCount) {
  Histogram h(kBounds);
  for (uint64_t v : {5, 15, 15, 100}) h.Observe(v);
  Exposition out;
  out.Family("axon_wait_seconds", "histogram", "Wait.");
  out.Histogram("axon_wait_seconds", {{"api", "x"}}, h.Snapshot(), 10);
  EXPECT_EQ(out.text(),
            "# HELP axon_wait_seconds Wait.\n"
            "# TYPE axon_wait_seconds histogram\n"
            "axon_wait_seconds_bucket{api=\"x\",le=\"1\"} 1\n"
            "axon_wait_seconds_bucket{api=\"x\",le=\"2\"} 3\n"
            "axon_wait_seconds_bucket{api=\"x\",le=\"4\"} 3\n"
            "axon_wait_seconds_bucket{api=\"x\",le=\"+Inf\"} 4\n"
            "axon_wait_seconds_sum{api=\"x\"} 13.5\n"
            "axon_wait_seconds_count{api=\"x\"} 4\n");
}

TEST(Exposition, MergeKeepsEachFamilyOnceWithAllItsSamples) {
  Exposition a, b;
  a.Family("axon_a", "gauge", "A.");
  a.Sample("axon_a", {{"replica", "1"}}, 1);
  b.Family("axon_a", "gauge", "A.");
  b.Sample("axon_a", {{"replica", "2"}}, 2);
  b.Family("axon_b", "counter", "B.");
  b.Sample("axon_b", {}, 7);
  EXPECT_EQ(MergeExpositions({a.text(), b.text()}),
            "# HELP axon_a A.\n# TYPE axon_a gauge\naxon_a{replica=\"1\"} 1\n"
            "axon_a{replica=\"2\"} 2\n# HELP axon_b B.\n# TYPE axon_b counter\naxon_b 7\n");
}

TEST(Exposition, WithLabelSetsSeveralWritersOfTheSameSeriesApart) {
  Exposition e;
  e.Family("axon_requests_total", "counter", "Requests.");
  e.Sample("axon_requests_total", {{"api", "iris"}, {"code", "200"}}, 5);
  e.Family("axon_up", "gauge", "Up.");
  e.Sample("axon_up", {}, 1);
  const std::string a = WithLabel(e.text(), "gateway", "gw-a");
  EXPECT_EQ(a,
            "# HELP axon_requests_total Requests.\n# TYPE axon_requests_total counter\n"
            "axon_requests_total{gateway=\"gw-a\",api=\"iris\",code=\"200\"} 5\n"
            "# HELP axon_up Up.\n# TYPE axon_up gauge\naxon_up{gateway=\"gw-a\"} 1\n");
  EXPECT_EQ(WithLabel("m{} 3\n", "g", "a\"b"), "m{g=\"a\\\"b\"} 3\n");
  // Two pods' texts merge into one family with both series.
  EXPECT_EQ(MergeExpositions({a, WithLabel(e.text(), "gateway", "gw-b")}),
            "# HELP axon_requests_total Requests.\n# TYPE axon_requests_total counter\n"
            "axon_requests_total{gateway=\"gw-a\",api=\"iris\",code=\"200\"} 5\n"
            "axon_requests_total{gateway=\"gw-b\",api=\"iris\",code=\"200\"} 5\n"
            "# HELP axon_up Up.\n# TYPE axon_up gauge\naxon_up{gateway=\"gw-a\"} 1\n"
            "axon_up{gateway=\"gw-b\"} 1\n");
}

}  // namespace
}  // namespace axon
