// The data plane: routes POST/GET /<endpoint> to a ready replica of the API (fewest requests
// in flight, over keep-alive connections), enforces max_replica_concurrency (503), the request
// timeout (504) and reports per-API statistics. Serves the Open Inference Protocol's HTTP paths
// under /v2 (v2_http.cc; each API is a model of its name). Admin paths under /_axon/ take the
// platform token: PUT /_axon/routes (a new route table), GET /_axon/stats; GET /_axon/healthz is
// open.
//
// Threading: Handle() runs on the server's I/O threads concurrently; it reads the route table
// through an atomic snapshot and uses a thread_local connection pool, so it takes no lock.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/route_table.h"
#include "http/beast.h"
#include "http/upstream_pool.h"

namespace axon::gateway {

class Gateway {
 public:
  // `routes_file`, when not empty, is where the table is persisted so that a restarted
  // gateway serves at once, before the operator pushes a fresh one.
  Gateway(std::string token, std::filesystem::path routes_file);

  http::asio::awaitable<http::Response> Handle(http::Request& request);

  // Replaces the route table. Thread-safe.
  Status SetRoutes(const nlohmann::json& json);
  // Per-API statistics and in-flight counts, with the in-flight samples taken after
  // `samples_after_unix_ms`.
  nlohmann::json Stats(int64_t samples_after_unix_ms = 0) const;
  // Records every API's in-flight requests now (the sampler thread calls it periodically).
  void SampleInFlight(int64_t unix_ms) const;

 private:
  http::asio::awaitable<http::Response> HandleAdmin(http::Request& request);
  // Waits until the API at `path` has a ready replica (true) or its hold timeout passes or
  // its hold queue is full (false). `table` is replaced by the newest route table.
  http::asio::awaitable<bool> HoldForReplica(std::string_view path,
                                             std::shared_ptr<const RouteTable>& table);
  // One I/O thread's connections to replicas, over TCP and over Unix sockets.
  struct Upstreams {
    http::UpstreamPool tcp;
    http::LocalUpstreamPool local;
  };
  static Upstreams& ThreadUpstreams(const RouteTable& table);
  // Sends `request` to a replica of `api` (of API version `version` only, unless 0) as
  // `replica_path`. A `prediction` waits for a replica while the API is scaled to zero and is
  // counted in its statistics. `table` is the route table `api` belongs to.
  http::asio::awaitable<http::Response> Dispatch(std::shared_ptr<const RouteTable> table,
                                                 const ApiRoute* api, int64_t version,
                                                 http::Request& request,
                                                 const std::string& request_id,
                                                 std::string_view replica_path, bool prediction);
  // The Open Inference Protocol's paths (/v2...), in v2_http.cc.
  http::asio::awaitable<http::Response> HandleV2(http::Request& request,
                                                 const std::string& request_id);
  // Sends `request` to a replica of `api` as `replica_path` (/predict or /metadata).
  http::asio::awaitable<http::Response> Forward(const ApiRoute& api, Upstreams& upstreams,
                                                http::Request& request,
                                                const std::string& request_id,
                                                std::string_view replica_path);

  const std::string token_;
  const std::filesystem::path routes_file_;
  std::atomic<std::shared_ptr<const RouteTable>> routes_;
};

// A fresh request id: 16 hex digits, unique per process with overwhelming probability.
std::string NewRequestId();

}  // namespace axon::gateway
