// The gateway's statistics as the operator reads them (GET /_axon/stats?after=UNIX_MS): per API,
// responses by class since the API appeared at the gateway, the sum of their latencies, the
// latency histogram, the count and latency quantiles of the last minute, requests in flight now
// (per replica, and waiting in the gateway's queue), and the in-flight samples the autoscaler
// averages. This header is the one definition of that JSON.
//
// Plain values; copy freely. FromJson() never throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::contract {

struct InFlightSample {
  int64_t unix_ms = 0;
  int64_t in_flight = 0;  // sent to replicas plus waiting in the gateway
  bool operator==(const InFlightSample&) const = default;
};

// Answers of the last minute (or since the API appeared at the gateway, when that is later).
struct RecentStats {
  int64_t window_ms = 0;  // how long the window is
  uint64_t requests = 0;  // answered in it
  double p50_ms = -1;     // latency quantiles (from the latency histogram); -1: no request
  double p99_ms = -1;
  bool operator==(const RecentStats&) const = default;
};

struct ApiStats {
  uint64_t responses_2xx = 0;
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t latency_us_total = 0;  // over every answered request
  // Answers per latency bucket (common/histogram.h's kLatencyBoundsUs, +Inf last; not
  // cumulative) since the API appeared at the gateway: the operator's dashboard history takes
  // the quantiles of each sampling interval from the difference of two of these.
  std::vector<uint64_t> latency_buckets;
  RecentStats recent;
  int64_t in_flight = 0;                             // now: sent to replicas plus queued
  int64_t queued = 0;                                // now: waiting in the gateway for a replica
  std::map<std::string, int64_t> replica_in_flight;  // replica id -> requests sent to it now
  std::vector<InFlightSample> samples;               // oldest first
  bool operator==(const ApiStats&) const = default;
};

struct GatewayStats {
  std::map<std::string, ApiStats> apis;  // by API name
  bool operator==(const GatewayStats&) const = default;
};

nlohmann::json ToJson(const GatewayStats& stats);
StatusOr<GatewayStats> GatewayStatsFromJson(const nlohmann::json& json);

}  // namespace axon::contract
