#include "operator/gateway_pods.h"

#include <gtest/gtest.h>

namespace axon::operator_ {
namespace {

contract::ApiStats Api(uint64_t ok, int64_t in_flight, uint64_t recent, double p50,
                       std::vector<contract::InFlightSample> samples) {
  contract::ApiStats a;
  a.responses_2xx = ok;
  a.latency_us_total = ok * 1000;
  a.latency_buckets = {ok, 1};
  a.recent = {.window_ms = 60'000, .requests = recent, .p50_ms = p50, .p99_ms = p50 * 2};
  a.in_flight = in_flight;
  a.queued = 1;
  a.replica_in_flight = {{"r1", in_flight}};
  a.samples = std::move(samples);
  return a;
}

TEST(MergeGatewayStats, OneGatewayIsItsOwnAnswer) {
  contract::GatewayStats one;
  one.apis["iris"] = Api(3, 2, 3, 5, {{1000, 2}});
  EXPECT_EQ(MergeGatewayStats({one}, 1000), one);
}

TEST(MergeGatewayStats, SumsCountsAndSamplesOfTheSamePeriod) {
  contract::GatewayStats a, b;
  a.apis["iris"] = Api(10, 2, 8, 5, {{1'000, 2}, {2'010, 3}});
  b.apis["iris"] = Api(4, 1, 20, 9, {{2'400, 1}, {3'000, 4}});
  b.apis["mlp"] = Api(1, 0, 1, 1, {});
  const contract::GatewayStats m = MergeGatewayStats({a, b}, 1000);
  const contract::ApiStats& iris = m.apis.at("iris");
  EXPECT_EQ(iris.responses_2xx, 14u);
  EXPECT_EQ(iris.latency_us_total, 14'000u);
  EXPECT_EQ(iris.latency_buckets, (std::vector<uint64_t>{14, 2}));
  EXPECT_EQ(iris.in_flight, 3);
  EXPECT_EQ(iris.queued, 2);
  EXPECT_EQ(iris.replica_in_flight.at("r1"), 3);
  EXPECT_EQ(iris.recent.requests, 28u);
  EXPECT_EQ(iris.recent.p50_ms, 9) << "the quantiles of the gateway that answered most";
  ASSERT_EQ(iris.samples.size(), 3u);
  EXPECT_EQ(iris.samples[0], (contract::InFlightSample{1'000, 2}));
  EXPECT_EQ(iris.samples[1], (contract::InFlightSample{2'400, 4})) << "same second: summed";
  EXPECT_EQ(iris.samples[2], (contract::InFlightSample{3'000, 4}));
  EXPECT_EQ(m.apis.at("mlp").responses_2xx, 1u);
}

}  // namespace
}  // namespace axon::operator_
