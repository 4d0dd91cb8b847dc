// The route table: what the operator tells the gateway about every API (where it is served, its
// limits, which replicas are ready). The operator builds one with every change and sends it as
// JSON (PUT /_axon/routes); the gateway also keeps the last one in $AXON_HOME/run/routes.json
// so that it can serve at once after a restart. This header is the one definition of that JSON.
//
// Plain values; copy freely. FromJson() takes untrusted bytes' worth of JSON and never throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::contract {

struct ReplicaRoute {
  std::string id;
  int64_t version = 0;  // the API version the replica serves
  std::string host;     // IPv4/IPv6 literal
  uint16_t port = 0;    // TCP port (health checks, remote replicas)
  std::string socket;   // local mode: "@name" Unix socket the gateway prefers; "" = TCP
  bool operator==(const ReplicaRoute&) const = default;
};

// Where a TrafficSplitter sends requests: `weight`% of them to `api`, or, for the shadow, a copy
// of `weight`% of them (whose answer is discarded).
struct SplitRoute {
  std::string api;  // the name of another ApiRoute of the table
  int64_t weight = 0;
  bool shadow = false;
  bool operator==(const SplitRoute&) const = default;
};

struct ApiRoute {
  std::string name;
  std::string endpoint;                    // "/iris": exact path match
  int64_t version = 0;                     // the API's current version
  std::string status = "updating";         // the operator's word, for 503 messages
  int64_t max_replica_concurrency = 1024;  // requests sent to one replica at once
  int64_t max_queue_length = 100;          // per ready replica, waiting in the gateway
  int64_t timeout_ms = 60'000;             // waiting for a free replica, then for its answer
  // With no ready replica (starting, restarting, scaling up from zero) and a status other than
  // "error", up to max_held requests wait up to hold_timeout_ms for one.
  int64_t hold_timeout_ms = 60'000;
  int64_t max_held = 1000;
  // Replicas of the current version fail before they get ready (a predictor that cannot load):
  // with none ready, waiting is pointless and requests get 503 at once.
  bool start_failing = false;
  std::vector<std::string> api_key_hashes;  // SHA-256 hex; non-empty = a key is required
  bool api_keys_required = false;           // required even while no key exists yet
  std::vector<ReplicaRoute> replicas;       // ready replicas only
  // Request logging (spec `logging`): one JSON line per sampled prediction request, appended
  // to `request_log`; the fraction sampled in millionths, 0 = off, 1'000'000 = every request.
  std::string request_log;
  int64_t request_log_per_million = 0;
  // Non-empty for a TrafficSplitter, which has no replicas: its requests go to these APIs (the
  // weights of those that are not the shadow sum to 100; at most one shadow).
  std::vector<SplitRoute> split;
  // An AsyncAPI: its one "replica" is the operator's async listener, which stores each
  // submission (POST /_axon/async/NAME) and answers its status (GET /_axon/async/NAME/ID); the
  // API's own replicas are fed from the queue by the operator and are not in the table.
  bool async = false;
  // With async: a BatchAPI or TaskAPI, whose endpoint takes job calls (POST submits, GET and
  // DELETE read and stop, with ?jobID= or /<endpoint>/<id>): every method and the query string
  // go to the listener, which checks them.
  bool jobs = false;
  // The API serves many models chosen per request (predictor.models as a mapping): a request
  // to /<endpoint>/<model> is one to /<endpoint>?model=<model> (/<endpoint>/metadata excepted).
  bool many_models = false;
  bool operator==(const ApiRoute&) const = default;
};

struct RouteTable {
  std::vector<ApiRoute> apis;
  bool operator==(const RouteTable&) const = default;
};

nlohmann::json ToJson(const RouteTable& table);
// Checks every field's type and range; errors name the field ("apis[2].replicas[0].port").
StatusOr<RouteTable> RouteTableFromJson(const nlohmann::json& json);

}  // namespace axon::contract
