// The gateway's routing state: an immutable snapshot of which APIs exist, at which endpoint,
// and which replicas serve them. The operator sends a new table whenever that changes; the
// gateway swaps it in atomically, so request handling never takes a lock.
//
// Counters (in-flight requests per replica, per-API response statistics) are atomics shared
// from one table to the next, so they survive route updates.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/beast.h"

namespace axon::gateway {

struct ReplicaTarget {
  std::string id;
  int64_t version = 0;  // the API version it serves (0: not told)
  http::tcp::endpoint endpoint;
  // Where the gateway sends requests when set (local mode): the replica's Unix socket.
  std::optional<http::local_stream::endpoint> local_endpoint;
  std::atomic<int64_t> in_flight{0};  // requests sent to it and not answered yet
};

// Per-API response statistics since the gateway started. Updated on every request.
struct ApiStats {
  std::atomic<uint64_t> responses_2xx{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> latency_us_total{0};  // over every answered request
  std::atomic<int64_t> held{0};  // requests waiting for an API at zero replicas to start one
  void Record(unsigned status, std::chrono::microseconds latency);
  nlohmann::json ToJson() const;

  // In-flight samples for the autoscaler: (unix ms, requests in flight), newest last, at most
  // kMaxSamples. Written by the sampler thread, read by the stats endpoint; not on the
  // request path.
  static constexpr size_t kMaxSamples = 600;
  void AddSample(int64_t unix_ms, int64_t in_flight);
  // Samples taken after `after_unix_ms`, as [[unix_ms, in_flight], ...].
  nlohmann::json SamplesAfter(int64_t after_unix_ms) const;

 private:
  mutable std::mutex samples_mu_;
  std::deque<std::pair<int64_t, int64_t>> samples_;  // guarded by samples_mu_
};

struct ApiRoute {
  std::string name;
  std::string endpoint;  // "/iris"
  int64_t version = 0;   // the API's current version (0: not told)
  int64_t max_replica_concurrency = 1024;
  std::chrono::milliseconds timeout{60'000};
  std::string status;  // the operator's word for the API when it has no ready replica
  // Scale to zero: with no ready replica, hold up to max_held requests for up to hold_timeout
  // while the operator starts one (instead of answering 503 at once).
  bool scale_to_zero = false;
  std::chrono::milliseconds hold_timeout{60'000};
  int64_t max_held = 1000;
  std::vector<std::shared_ptr<ReplicaTarget>> replicas;  // ready replicas only
  std::shared_ptr<ApiStats> stats;

  // Requests in flight over all replicas, plus requests held for a replica to start.
  int64_t InFlight() const;
  // The replica with the fewest requests in flight, or nullptr if every replica already has
  // max_replica_concurrency. `skip` is excluded (for a retry elsewhere).
  ReplicaTarget* PickReplica(const ReplicaTarget* skip = nullptr) const;
  // Like PickReplica(), and counts one request in flight on the replica it returns, atomically
  // with the max_replica_concurrency check (so concurrent callers cannot overshoot the limit).
  // The caller decrements that replica's in_flight when the request is done.
  ReplicaTarget* AcquireReplica(const ReplicaTarget* skip = nullptr) const;
};

class RouteTable {
 public:
  // Parses the operator's JSON:
  //   {"apis": [{"name", "endpoint", "version", "max_replica_concurrency", "timeout_ms",
  //              "status", "scale_to_zero", "hold_timeout_ms", "max_held" (the last three and
  //              "version" optional),
  //              "replicas": [{"id", "host", "port", "version", "socket" (the last two
  //                            optional)}]}]}
  // reusing counters of `previous` (may be null) for APIs and replicas that carry over.
  static StatusOr<std::shared_ptr<const RouteTable>> FromJson(const nlohmann::json& json,
                                                              const RouteTable* previous);

  // The API whose endpoint is exactly `path`, or nullptr.
  const ApiRoute* Find(std::string_view path) const;
  // The API named `name` (a model of the Open Inference Protocol), or nullptr.
  const ApiRoute* FindByName(std::string_view name) const;
  // `api`'s ready replicas of API version `version` as a route of their own, sharing `api`'s
  // counters and limits; nullptr when none of them serves that version. `api` is of this table.
  const ApiRoute* FindVersion(const ApiRoute& api, int64_t version) const;
  const std::vector<std::unique_ptr<ApiRoute>>& apis() const { return apis_; }
  // Every replica's TCP endpoint and every Unix socket endpoint in the table.
  std::vector<http::tcp::endpoint> Endpoints() const;
  std::vector<http::local_stream::endpoint> LocalEndpoints() const;

 private:
  void AddVersions(const ApiRoute& api);  // fills versions_

  std::vector<std::unique_ptr<ApiRoute>> apis_;
  std::map<std::string, const ApiRoute*, std::less<>> by_endpoint_;
  std::map<std::string, const ApiRoute*, std::less<>> by_name_;
  std::map<std::pair<const ApiRoute*, int64_t>, std::unique_ptr<ApiRoute>> versions_;
};

}  // namespace axon::gateway
