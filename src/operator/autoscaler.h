// Cortex's autoscaling algorithm for one API, fed with in-flight samples and asked for a
// decision once per tick. Pure logic on an injected clock: no threads, no I/O.
//
// Each Decide():
//   avg  = mean of in-flight samples (active + queued requests, over all replicas) in `window`
//   raw  = avg / target_replica_concurrency;  rec = ceil(raw)
//   rec  = current when current*(1-downscale_tolerance) <= raw <= current*(1+upscale_tolerance)
//   rec is clamped to [min(ceil(current*max_downscale_factor), current-1),
//                      max(ceil(current*max_upscale_factor), current+1)]
//   rec is clamped to [min_replicas, max_replicas]
//   a scale-down goes only as low as the highest rec of downscale_stabilization_period,
//   a scale-up only as high as the lowest rec of upscale_stabilization_period,
//   and never to 0 while the gateway holds requests for the API (they wait for a replica; the
//   samples may not show them yet).
//
// Threading: not thread-safe; the owner serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "spec/api_spec.h"

namespace axon::operator_ {

struct ScalingDecision {
  int64_t desired = 0;
  std::string reason;  // one line for `axon describe`
};

class Autoscaler {
 public:
  explicit Autoscaler(spec::AutoscalingSpec spec) : spec_(std::move(spec)) {}

  void set_spec(const spec::AutoscalingSpec& spec) { spec_ = spec; }
  // Records the API's total in-flight requests as seen at `at`.
  void AddSample(TimePoint at, double in_flight);
  // `held`: requests the gateway queues for the API now (waiting for a replica).
  ScalingDecision Decide(TimePoint now, int64_t current, int64_t held = 0);
  // Mean in-flight over the window ending at `now`; nullopt-like -1 when there is no sample.
  double WindowAverage(TimePoint now) const;

 private:
  struct Sample {
    TimePoint at;
    double value;
  };
  struct Recommendation {
    TimePoint at;
    int64_t replicas;
  };
  static constexpr std::string_view kNoSamples = "no in-flight samples yet";
  // Decide() before the held requests are taken into account; the reason without "a -> b".
  ScalingDecision DecideFromSamples(TimePoint now, int64_t current);
  int64_t Recommend(double avg, int64_t current, std::string& why) const;

  spec::AutoscalingSpec spec_;
  std::deque<Sample> samples_;
  std::deque<Recommendation> recommendations_;
};

}  // namespace axon::operator_
