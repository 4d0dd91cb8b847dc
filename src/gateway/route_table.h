// The gateway's routing state: an immutable snapshot of which APIs exist, at which endpoint,
// with which limits, and which replicas serve them, built from the operator's route table
// (contract/routes.h). The gateway swaps a new snapshot in atomically, so request handling
// never takes a lock.
//
// What must survive route updates lives in shared objects carried from one table to the next:
// each replica's in-flight counter (same id and address), and each API's statistics and
// waiting queue (same name and endpoint).
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

#include "common/status.h"
#include "contract/routes.h"
#include "contract/stats.h"
#include "gateway/api_queue.h"
#include "gateway/api_stats.h"
#include "gateway/request_log.h"
#include "gateway/traffic_split.h"
#include "http/beast.h"

namespace axon::gateway {

struct ReplicaTarget {
  std::string id;
  int64_t version = 0;
  // Where answers from this replica are counted: its API's counters of its version (owned by
  // the API's ApiStats, which outlives every route table that holds this target).
  StatusCounters* responses = nullptr;
  http::tcp::endpoint endpoint;
  // Where the gateway sends requests when set (local mode): the replica's Unix socket.
  std::optional<http::local_stream::endpoint> local_endpoint;
  std::atomic<int64_t> in_flight{0};  // requests sent to it and not answered yet
  // Until when (steady clock, ns since its epoch; 0 = never) to prefer other replicas: an
  // exchange with it failed at the connection level (it died, most likely), and the operator
  // has not taken it out of the route table yet. Without this, a dead replica, having no
  // requests in flight, would be everyone's least loaded pick until then.
  std::atomic<int64_t> avoid_until_ns{0};

  // After a failed exchange: avoid this replica for `period`.
  void Avoid(std::chrono::milliseconds period);
  bool Avoided(int64_t now_ns) const;
};

// What an API keeps across route tables.
struct ApiShared {
  ApiStats stats;
  ApiQueue queue;
  // A TrafficSplitter's: requests it has routed (its place in the split schedule), and copies
  // on their way to its shadow API (at most kMaxShadowInFlight; more are dropped and counted).
  std::atomic<uint64_t> split_counter{0};
  std::atomic<int64_t> shadow_in_flight{0};
  std::atomic<uint64_t> shadow_dropped{0};
  static constexpr int64_t kMaxShadowInFlight = 256;
};

struct ApiRoute;

// Where one request to a TrafficSplitter goes.
struct SplitChoice {
  const ApiRoute* primary = nullptr;  // nullptr: that API is not in the route table
  std::string primary_name;
  const ApiRoute* shadow = nullptr;  // set when this request is copied to the shadow (if routed)
};

struct ApiRoute {
  contract::ApiRoute spec;  // as the operator sent it (replicas: see `replicas`)
  std::chrono::milliseconds timeout{60'000};
  std::chrono::milliseconds hold_timeout{60'000};
  std::vector<std::shared_ptr<ReplicaTarget>> replicas;  // ready replicas only
  std::shared_ptr<ApiShared> shared;
  std::shared_ptr<const RequestLog> request_log;  // null when request logging is off
  // A TrafficSplitter's schedule and its APIs (spec.split's order; nullptr for an API missing
  // from the table), routes of the same table.
  std::optional<TrafficSplit> split;
  std::vector<const ApiRoute*> split_targets;

  const std::string& name() const { return spec.name; }
  // For a TrafficSplitter (split set): the APIs of the next request.
  SplitChoice ChooseSplit() const;
  // Requests in flight over all replicas, plus requests waiting in the gateway's queue.
  int64_t InFlight() const;
  // How many requests may wait in the queue now: max_queue_length per ready replica; with no
  // ready replica, max_held (while one starts or restarts, or the API scales up from zero),
  // none when its replicas fail before they get ready (start_failing).
  int64_t QueueLimit() const;
  // True when the API needs a key and `key` (as the client sent it) is not one of its keys.
  bool KeyRejected(std::string_view key) const;
  // The replica with the fewest requests in flight among those not avoided (see
  // ReplicaTarget::avoid_until_ns), counted in flight atomically with the
  // max_replica_concurrency check (so concurrent callers cannot overshoot the limit); nullptr
  // if every replica is at the limit. `skip` is excluded (for a retry elsewhere). The caller
  // calls Release() on it when the request is done.
  ReplicaTarget* AcquireReplica(const ReplicaTarget* skip = nullptr) const;
  // True while some replica is avoided (a request that finds no replica then waits only until
  // the avoidance ends, not for a finished request that may never come).
  bool AnyAvoided() const;
  // The request sent to `replica` is done: frees its slot and wakes a waiting request.
  void Release(ReplicaTarget* replica) const;

 private:
  ReplicaTarget* PickReplica(const ReplicaTarget* skip) const;
};

class RouteTable {
 public:
  // Builds a table from the operator's route table, reusing shared state of `previous` (may be
  // null). Fails on addresses that do not parse or endpoints served twice.
  static StatusOr<std::shared_ptr<const RouteTable>> Build(const contract::RouteTable& routes,
                                                           const RouteTable* previous);

  // The API whose endpoint is exactly `path`, or nullptr.
  const ApiRoute* Find(std::string_view path) const;
  // The API named `name` (a model of the Open Inference Protocol), or nullptr.
  const ApiRoute* FindByName(std::string_view name) const;
  // `api`'s ready replicas of API version `version` as a route of their own, sharing `api`'s
  // statistics, queue and limits; nullptr when none of them serves that version. `api` is of
  // this table.
  const ApiRoute* FindVersion(const ApiRoute& api, int64_t version) const;
  const std::vector<std::unique_ptr<ApiRoute>>& apis() const { return apis_; }
  // Every replica's TCP endpoint and every Unix socket endpoint in the table.
  std::vector<http::tcp::endpoint> Endpoints() const;
  std::vector<http::local_stream::endpoint> LocalEndpoints() const;
  // Statistics of every API now, with the in-flight samples taken after `samples_after_unix_ms`.
  contract::GatewayStats Stats(int64_t samples_after_unix_ms) const;
  // Every API's metrics in the Prometheus text format (metric names: docs/observability.md).
  std::string Metrics() const;

 private:
  // Fills each TrafficSplitter's schedule and targets, once every route is built.
  void ResolveSplits();
  void AddVersions(const ApiRoute& api);  // fills versions_

  std::vector<std::unique_ptr<ApiRoute>> apis_;
  std::map<std::string, const ApiRoute*, std::less<>> by_endpoint_;
  std::map<std::string, const ApiRoute*, std::less<>> by_name_;
  std::map<std::pair<const ApiRoute*, int64_t>, std::unique_ptr<ApiRoute>> versions_;
};

}  // namespace axon::gateway
