// The data plane: routes POST/GET /<endpoint> to a ready replica of the API (fewest requests
// in flight, over keep-alive connections) or, for a TrafficSplitter, to one of its APIs by
// weight (with a copy to its shadow), or, for an AsyncAPI, to the operator, which queues it
// (POST /<endpoint>) and answers its status (GET /<endpoint>/<id>); checks API keys (401),
// queues requests while every replica is busy or while an API scaled to zero starts one (503
// when the queue is full or the wait too long), enforces the API's timeout (504) and keeps per-API
// statistics.
//
// A replica's streamed answer (chunked: a Python predict() that yields) is passed on to the
// client as it comes, through the BodyWriter given to Handle(), with backpressure; the replica
// stays counted in flight until the stream ends, and the statistics count the request then,
// with the whole stream's duration as its latency. The API's timeout bounds the wait for the
// answer's head and then each wait for more of it, never the whole stream. Without a writer
// (gRPC, /v2), answers are read whole.
//
// Handle() also serves the Open Inference Protocol's HTTP paths under /v2 (v2_http.cc; each
// API is a model of its name, its versions the API versions of its ready replicas).
//
// Two faces: Handle() serves the public port (predictions and GET /_axon/healthz);
// HandleAdmin() serves the admin listener, which only the operator reaches and which takes the
// platform token: PUT /_axon/routes (a new route table), GET /_axon/stats, GET
// /_axon/metrics (Prometheus text; docs/observability.md), and GET /_axon/held?after=N&wait_ms=M:
// answers {"held": count} once more than N requests have been held for an API with no ready
// replica since the gateway started (at once if that is already so), or after M ms (at most
// kMaxHeldWait) with the count as it is; the operator waits on it so that an API at zero
// replicas starts one as soon as a request comes, not at its next reconcile tick.
//
// Threading: Handle() runs on the public server's I/O threads concurrently; it reads the route
// table through an atomic snapshot and uses thread_local connection pools, so it takes no lock.
// HandleAdmin() and SampleInFlight() may run on any thread.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "contract/routes.h"
#include "contract/stats.h"
#include "gateway/api_queue.h"
#include "gateway/route_table.h"
#include "http/beast.h"
#include "http/body_writer.h"
#include "http/upstream_pool.h"

namespace axon::gateway {

class Gateway {
 public:
  // `routes_file`, when not empty, is where the table is persisted so that a restarted
  // gateway serves at once, before the operator pushes a fresh one.
  Gateway(std::string token, std::filesystem::path routes_file);

  // `writer`: where a streamed answer goes (null: read every answer whole).
  http::asio::awaitable<http::Response> Handle(http::Request& request,
                                               http::BodyWriter* writer = nullptr);
  http::asio::awaitable<http::Response> HandleAdmin(http::Request& request);

  // Replaces the route table and wakes every waiting request to look again. Thread-safe.
  Status SetRoutes(const contract::RouteTable& routes);
  // Per-API statistics, with the in-flight samples taken after `samples_after_unix_ms`.
  contract::GatewayStats Stats(int64_t samples_after_unix_ms = 0) const;
  // Records every API's in-flight requests now (the sampler calls it periodically).
  void SampleInFlight(int64_t unix_ms) const;

 private:
  // One I/O thread's connections to replicas, over TCP and over Unix sockets.
  struct Upstreams {
    http::UpstreamPool tcp;
    http::LocalUpstreamPool local;
  };
  static Upstreams& ThreadUpstreams(const RouteTable& table);
  // Checks the API key, admits the request (see Admit) and forwards it to a replica of `api`
  // (of API version `version` only, unless 0) as `replica_path`. A `prediction` may wait in the
  // API's queue and is counted in its statistics; anything else (metadata) neither waits nor
  // wakes an API at zero replicas. `api` belongs to `table`. `writer` as for Handle().
  http::asio::awaitable<http::Response> Dispatch(std::shared_ptr<const RouteTable> table,
                                                 const ApiRoute* api, int64_t version,
                                                 http::Request& request,
                                                 const std::string& request_id,
                                                 std::string_view replica_path, bool prediction,
                                                 http::BodyWriter* writer = nullptr);
  // An AsyncAPI's paths: POST /<endpoint> (a new request) and GET /<endpoint>/<id> (its
  // status), forwarded to the operator's async listener; for a BatchAPI or TaskAPI (route
  // `jobs`) any method on /<endpoint> and /<endpoint>/<id>, with its query string. `api` is the
  // route `path` found (null: none); nullopt when the path is not an AsyncAPI's.
  http::asio::awaitable<std::optional<http::Response>> HandleAsync(
      std::shared_ptr<const RouteTable> table, const ApiRoute* api, std::string_view path,
      http::Request& request, const std::string& request_id);
  // The Open Inference Protocol's paths (/v2...), in v2_http.cc.
  http::asio::awaitable<http::Response> HandleV2(http::Request& request,
                                                 const std::string& request_id);
  // A replica for the request (counted in flight), waiting in the API's queue while none can
  // take it. On failure returns nullptr and sets `error`. `table` and `api` are replaced by
  // the newest route table's when the request waited.
  // With `version` (not 0), only replicas of that API version take it, and `api` becomes their
  // route (RouteTable::FindVersion).
  http::asio::awaitable<ReplicaTarget*> Admit(std::shared_ptr<const RouteTable>& table,
                                              const ApiRoute*& api, int64_t version,
                                              std::chrono::steady_clock::time_point start,
                                              const std::string& request_id, http::Response& error);
  // Sends `request` to `replica` (or, if it was certainly not delivered, once to another) as
  // `replica_path` (/predict or /metadata); releases the replica(s) it used. `replica` ends as
  // the one that answered last. A streamed answer goes to `writer` (if not null) as it comes;
  // the Response returned then is its head.
  http::asio::awaitable<http::Response> Forward(const ApiRoute& api, ReplicaTarget*& replica,
                                                Upstreams& upstreams, http::Request& request,
                                                const std::string& request_id,
                                                std::string_view replica_path,
                                                http::BodyWriter* writer);

  // A TrafficSplitter's shadow (shadow.cc): starts sending a copy of `request` to `shadow` and
  // returns at once, or drops the copy when kMaxShadowInFlight copies of the splitter are on
  // their way. The copy never waits in a queue; its answer only counts in `shadow`'s
  // statistics. `table` is the table `shadow` belongs to, kept alive by the copy.
  void SendShadow(std::shared_ptr<const RouteTable> table, const ApiRoute& shadow,
                  std::shared_ptr<ApiShared> splitter, const http::Request& request,
                  const std::string& request_id, const http::asio::any_io_executor& executor);
  http::asio::awaitable<void> ShadowExchange(std::shared_ptr<const RouteTable> table,
                                             const ApiRoute& shadow,
                                             std::shared_ptr<ApiShared> splitter,
                                             http::Request request, std::string request_id);

  // GET /_axon/held (see above).
  http::asio::awaitable<http::Response> WaitForHeld(int64_t after, std::chrono::milliseconds wait);
  // A request was just queued for an API with no ready replica: counts it and wakes the
  // requests waiting on /_axon/held.
  void NoteHeld();

  const std::string token_;
  const std::filesystem::path routes_file_;
  std::atomic<std::shared_ptr<const RouteTable>> routes_;
  std::atomic<int64_t> held_count_{0};  // requests held for an API with no ready replica
  ApiQueue held_watchers_;              // admin requests waiting on /_axon/held
};

// The longest wait GET /_axon/held accepts.
inline constexpr std::chrono::milliseconds kMaxHeldWait{30'000};

// A fresh request id: 16 hex digits, unique per process with overwhelming probability.
std::string NewRequestId();

}  // namespace axon::gateway
