#include "operator/autoscaler.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace axon::operator_ {

void Autoscaler::AddSample(TimePoint at, double in_flight) {
  samples_.push_back({at, in_flight});
  const auto keep = at - spec_.window;
  while (!samples_.empty() && samples_.front().at < keep) samples_.pop_front();
}

double Autoscaler::WindowAverage(TimePoint now) const {
  double sum = 0;
  int n = 0;
  for (const auto& s : samples_) {
    if (s.at >= now - spec_.window && s.at <= now) {
      sum += s.value;
      ++n;
    }
  }
  return n == 0 ? -1 : sum / n;
}

int64_t Autoscaler::Recommend(double avg, int64_t current, std::string& why) const {
  const double raw = avg / spec_.target_replica_concurrency;
  auto rec = static_cast<int64_t>(std::ceil(raw));
  why = fmt::format("avg in-flight {:.2f} / target {:g} = {:.2f}", avg,
                    spec_.target_replica_concurrency, raw);
  const auto cur = static_cast<double>(current);
  if (current > 0 && raw >= cur * (1 - spec_.downscale_tolerance) &&
      raw <= cur * (1 + spec_.upscale_tolerance)) {
    why += "; within tolerance of " + std::to_string(current);
    rec = current;
  }
  const auto up_limit = std::max<int64_t>(
      static_cast<int64_t>(std::ceil(cur * spec_.max_upscale_factor)), current + 1);
  const auto down_limit = std::min<int64_t>(
      static_cast<int64_t>(std::ceil(cur * spec_.max_downscale_factor)), current - 1);
  if (rec > up_limit) why += fmt::format("; capped by max_upscale_factor at {}", up_limit);
  if (rec < down_limit) why += fmt::format("; held by max_downscale_factor at {}", down_limit);
  rec = std::clamp(rec, std::max<int64_t>(down_limit, 0), up_limit);
  if (rec < spec_.min_replicas || rec > spec_.max_replicas) {
    rec = std::clamp(rec, spec_.min_replicas, spec_.max_replicas);
    why += fmt::format("; kept within [{}, {}]", spec_.min_replicas, spec_.max_replicas);
  }
  return rec;
}

ScalingDecision Autoscaler::Decide(TimePoint now, int64_t current, int64_t held) {
  ScalingDecision decision = DecideFromSamples(now, current);
  if (decision.desired == 0 && held > 0 && spec_.max_replicas > 0) {
    decision.desired = 1;
    decision.reason += fmt::format("; {} held request{} keep{} 1", held, held == 1 ? "" : "s",
                                   held == 1 ? "s" : "");
  }
  if (decision.reason.starts_with(kNoSamples)) return decision;
  decision.reason =
      fmt::format("{} -> {} replicas: {}", current, decision.desired, decision.reason);
  return decision;
}

ScalingDecision Autoscaler::DecideFromSamples(TimePoint now, int64_t current) {
  const double avg = WindowAverage(now);
  if (avg < 0) {
    const int64_t kept = std::clamp(current, spec_.min_replicas, spec_.max_replicas);
    return {kept, std::string(kNoSamples)};
  }
  ScalingDecision decision;
  const int64_t rec = Recommend(avg, current, decision.reason);
  recommendations_.push_back({now, rec});
  const auto horizon =
      now - std::max(spec_.downscale_stabilization_period, spec_.upscale_stabilization_period);
  while (!recommendations_.empty() && recommendations_.front().at < horizon) {
    recommendations_.pop_front();
  }
  decision.desired = rec;
  if (rec < current) {
    int64_t floor = rec;
    for (const auto& r : recommendations_) {
      if (r.at >= now - spec_.downscale_stabilization_period) floor = std::max(floor, r.replicas);
    }
    decision.desired = std::min(current, floor);
    if (floor > rec) {
      decision.reason += fmt::format("; downscale stabilization keeps {}", decision.desired);
    }
  } else if (rec > current) {
    int64_t ceiling = rec;
    for (const auto& r : recommendations_) {
      if (r.at >= now - spec_.upscale_stabilization_period) ceiling = std::min(ceiling, r.replicas);
    }
    decision.desired = std::max(current, ceiling);
    if (ceiling < rec) {
      decision.reason += fmt::format("; upscale stabilization allows {}", decision.desired);
    }
  }
  return decision;
}

}  // namespace axon::operator_
