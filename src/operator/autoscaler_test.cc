#include "operator/autoscaler.h"

#include <gtest/gtest.h>

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

// No stabilization and no tolerance unless a test sets them, so one parameter moves at a time.
spec::AutoscalingSpec Plain() {
  spec::AutoscalingSpec s;
  s.min_replicas = 1;
  s.max_replicas = 100;
  s.target_replica_concurrency = 1;
  s.window = 10s;
  s.downscale_stabilization_period = 0s;
  s.upscale_stabilization_period = 0s;
  s.max_upscale_factor = 100;
  s.max_downscale_factor = 0.01;
  s.downscale_tolerance = 0;
  s.upscale_tolerance = 0;
  return s;
}

int64_t DecideWithLoad(const spec::AutoscalingSpec& spec, double in_flight, int64_t current) {
  FakeClock clock;
  Autoscaler a(spec);
  a.AddSample(clock.Now(), in_flight);
  return a.Decide(clock.Now(), current).desired;
}

TEST(AutoscalerTest, TargetConcurrencyDividesLoad) {
  auto s = Plain();
  EXPECT_EQ(DecideWithLoad(s, 6, 1), 6);
  s.target_replica_concurrency = 2;
  EXPECT_EQ(DecideWithLoad(s, 6, 1), 3);
  EXPECT_EQ(DecideWithLoad(s, 5, 1), 3);  // ceil(2.5)
}

TEST(AutoscalerTest, NoSamplesKeepsCurrentWithinBounds) {
  FakeClock clock;
  Autoscaler a(Plain());
  EXPECT_EQ(a.Decide(clock.Now(), 3).desired, 3);
  EXPECT_EQ(a.Decide(clock.Now(), 0).desired, 1);  // min_replicas
}

// Regression: a request held for an API that had just been woken from zero (its samples not
// showing it yet) met a decision of 0 in the same pass, which put the API back to zero.
TEST(AutoscalerTest, HeldRequestsKeepOneReplica) {
  auto s = Plain();
  s.min_replicas = 0;
  FakeClock clock;
  Autoscaler a(s);
  a.AddSample(clock.Now(), 0);
  EXPECT_EQ(a.Decide(clock.Now(), 1).desired, 0);
  const ScalingDecision held = a.Decide(clock.Now(), 1, /*held=*/2);
  EXPECT_EQ(held.desired, 1);
  EXPECT_EQ(held.reason,
            "1 -> 1 replicas: avg in-flight 0.00 / target 1 = 0.00; 2 held requests "
            "keep 1");
  EXPECT_EQ(a.Decide(clock.Now(), 0, 1).desired, 1);  // at zero already: woken

  Autoscaler fresh(s);  // no samples yet
  EXPECT_EQ(fresh.Decide(clock.Now(), 0, 1).desired, 1);
  EXPECT_EQ(fresh.Decide(clock.Now(), 0).desired, 0);
  s.max_replicas = 0;  // an API turned off stays off
  Autoscaler off(s);
  off.AddSample(clock.Now(), 0);
  EXPECT_EQ(off.Decide(clock.Now(), 0, 5).desired, 0);
}

TEST(AutoscalerTest, WindowAveragesOnlyRecentSamples) {
  auto s = Plain();
  FakeClock clock;
  Autoscaler a(s);
  a.AddSample(clock.Now(), 100);  // will fall out of the 10 s window
  clock.Advance(11s);
  a.AddSample(clock.Now(), 2);
  a.AddSample(clock.Now(), 4);
  EXPECT_DOUBLE_EQ(a.WindowAverage(clock.Now()), 3);
  EXPECT_EQ(a.Decide(clock.Now(), 1).desired, 3);

  s.window = 60s;
  Autoscaler wide(s);
  FakeClock c2;
  wide.AddSample(c2.Now(), 100);
  c2.Advance(11s);
  wide.AddSample(c2.Now(), 2);
  EXPECT_EQ(wide.Decide(c2.Now(), 1).desired, 51);
}

TEST(AutoscalerTest, UpscaleToleranceKeepsCurrentCount) {
  auto s = Plain();
  EXPECT_EQ(DecideWithLoad(s, 10.3, 10), 11);
  s.upscale_tolerance = 0.05;
  EXPECT_EQ(DecideWithLoad(s, 10.3, 10), 10);
  EXPECT_EQ(DecideWithLoad(s, 10.6, 10), 11);
}

TEST(AutoscalerTest, DownscaleToleranceKeepsCurrentCount) {
  auto s = Plain();
  EXPECT_EQ(DecideWithLoad(s, 8.9, 10), 9);
  s.downscale_tolerance = 0.15;
  EXPECT_EQ(DecideWithLoad(s, 8.9, 10), 10);
  EXPECT_EQ(DecideWithLoad(s, 8.4, 10), 9);
}

TEST(AutoscalerTest, MaxUpscaleFactorLimitsOneStep) {
  auto s = Plain();
  s.max_upscale_factor = 1.5;
  EXPECT_EQ(DecideWithLoad(s, 50, 4), 6);
  s.max_upscale_factor = 3;
  EXPECT_EQ(DecideWithLoad(s, 50, 4), 12);
  s.max_upscale_factor = 1.01;
  EXPECT_EQ(DecideWithLoad(s, 50, 4), 5);  // +1 is always allowed
}

TEST(AutoscalerTest, MaxDownscaleFactorLimitsOneStep) {
  auto s = Plain();
  s.max_downscale_factor = 0.75;
  EXPECT_EQ(DecideWithLoad(s, 1, 10), 8);  // ceil(7.5)
  s.max_downscale_factor = 0.5;
  EXPECT_EQ(DecideWithLoad(s, 1, 10), 5);
  s.max_downscale_factor = 0.99;
  EXPECT_EQ(DecideWithLoad(s, 1, 10), 9);  // -1 is always allowed
}

TEST(AutoscalerTest, MinAndMaxReplicasBound) {
  auto s = Plain();
  s.min_replicas = 2;
  s.max_replicas = 5;
  EXPECT_EQ(DecideWithLoad(s, 0, 3), 2);
  EXPECT_EQ(DecideWithLoad(s, 50, 3), 5);
  s.min_replicas = 0;
  EXPECT_EQ(DecideWithLoad(s, 0, 1), 0);
}

TEST(AutoscalerTest, DownscaleStabilizationWaitsForThePeriod) {
  auto s = Plain();
  s.downscale_stabilization_period = 60s;
  s.window = 1s;
  FakeClock clock;
  Autoscaler a(s);
  a.AddSample(clock.Now(), 8);
  EXPECT_EQ(a.Decide(clock.Now(), 8).desired, 8);
  for (int i = 0; i < 5; ++i) {  // load drops; the 8 recommended earlier holds the count
    clock.Advance(10s);
    a.AddSample(clock.Now(), 2);
    EXPECT_EQ(a.Decide(clock.Now(), 8).desired, 8) << i;
  }
  clock.Advance(11s);  // 61 s after the high recommendation
  a.AddSample(clock.Now(), 2);
  EXPECT_EQ(a.Decide(clock.Now(), 8).desired, 2);
}

TEST(AutoscalerTest, UpscaleStabilizationWaitsForThePeriod) {
  auto s = Plain();
  s.upscale_stabilization_period = 30s;
  s.window = 1s;
  FakeClock clock;
  Autoscaler a(s);
  a.AddSample(clock.Now(), 1);
  EXPECT_EQ(a.Decide(clock.Now(), 1).desired, 1);
  clock.Advance(10s);
  a.AddSample(clock.Now(), 4);
  EXPECT_EQ(a.Decide(clock.Now(), 1).desired, 1);  // the low recommendation is recent
  clock.Advance(21s);
  a.AddSample(clock.Now(), 4);
  EXPECT_EQ(a.Decide(clock.Now(), 1).desired, 4);
}

TEST(AutoscalerTest, ReasonExplainsTheDecision) {
  auto s = Plain();
  s.max_upscale_factor = 1.5;
  FakeClock clock;
  Autoscaler a(s);
  a.AddSample(clock.Now(), 10);
  const auto d = a.Decide(clock.Now(), 2);
  EXPECT_EQ(d.desired, 3);
  EXPECT_NE(d.reason.find("2 -> 3 replicas"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("max_upscale_factor"), std::string::npos) << d.reason;
}

}  // namespace
}  // namespace axon::operator_
