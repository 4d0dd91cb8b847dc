// Fuzzes the route table contract and the gateway's table built from it: the input is a route
// table as the operator sends it (PUT /_axon/routes) or as the gateway reads it back from its
// routes file. contract::RouteTableFromJson parses it; gateway::RouteTable::Build builds it
// alone and on top of a previous table, as a route update does.
//
// Checked besides the sanitizers: no exception escapes; an accepted table finds each API at its
// endpoint, lists every replica's endpoint, keeps the counters of APIs that carry over, and
// picking and releasing replicas leaves no request counted in flight.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "contract/routes.h"
#include "gateway/route_table.h"

using axon::StatusOr;

namespace {

using axon::gateway::ApiRoute;
using axon::gateway::RouteTable;
using TablePtr = std::shared_ptr<const RouteTable>;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "route_table: %s\n", what.c_str());
  std::abort();
}

// A table as the operator writes it: one API over TCP, one over a Unix socket, one asleep.
const RouteTable& Previous() {
  static const auto routes = axon::contract::RouteTableFromJson(nlohmann::json::parse(R"({"apis": [
    {"name": "iris", "endpoint": "/iris", "max_replica_concurrency": 2, "timeout_ms": 1000,
     "status": "live", "replicas": [{"id": "iris-1", "host": "127.0.0.1", "port": 9001},
                                    {"id": "iris-2", "host": "127.0.0.1", "port": 9002}]},
    {"name": "mlp", "endpoint": "/mlp", "status": "live",
     "replicas": [{"id": "mlp-1", "host": "127.0.0.1", "port": 9003, "socket": "@mlp-1"}]},
    {"name": "text", "endpoint": "/text", "status": "live",
     "hold_timeout_ms": 100, "max_held": 4, "replicas": []}]})"));
  if (!routes.ok()) Fail("the previous table does not parse: " + routes.status().message());
  static const auto table = RouteTable::Build(*routes, nullptr);
  if (!table.ok()) Fail("the previous table does not build: " + table.status().message());
  return **table;
}

void CheckApi(const RouteTable& table, const ApiRoute& api, const RouteTable* previous) {
  const std::string& name = api.name();
  if (table.Find(api.spec.endpoint) != &api) Fail("api " + name + " not found at its endpoint");
  if (api.shared == nullptr) Fail("api " + name + " has no statistics");
  const ApiRoute* old = previous != nullptr ? previous->Find(api.spec.endpoint) : nullptr;
  if (old != nullptr && old->name() == name && old->shared != api.shared) {
    Fail("api " + name + " lost its counters in a route update");
  }
  // Take up to three replicas as requests would, then give them back.
  std::vector<axon::gateway::ReplicaTarget*> taken;
  for (int i = 0; i < 3; ++i) {
    if (auto* replica = api.AcquireReplica(taken.empty() ? nullptr : taken.back())) {
      taken.push_back(replica);
    }
  }
  for (auto* replica : taken) api.Release(replica);
  if (api.InFlight() != 0) Fail("api " + name + " counts requests that were given back");
}

void Check(const nlohmann::json& json, const RouteTable* previous) {
  const auto routes = axon::contract::RouteTableFromJson(json);
  if (!routes.ok()) {
    if (routes.status().message().empty()) Fail("an error without a message");
    return;
  }
  // What the operator sends is what it reads back (the gateway persists it the same way).
  if (axon::contract::RouteTableFromJson(axon::contract::ToJson(*routes)).value() != *routes) {
    Fail("the route table does not survive ToJson and back");
  }
  // Request logging would open (and create) the file an input names: not from a fuzzer.
  axon::contract::RouteTable built = *routes;
  for (auto& api : built.apis) api.request_log_per_million = 0;
  StatusOr<TablePtr> table = RouteTable::Build(built, previous);
  if (!table.ok()) {
    if (table.status().message().empty()) Fail("an error without a message");
    return;
  }
  size_t replicas = 0;
  size_t sockets = 0;
  for (const auto& api : (*table)->apis()) {
    CheckApi(**table, *api, previous);
    replicas += api->replicas.size();
    for (const auto& r : api->replicas) sockets += r->local_endpoint.has_value();
  }
  if ((*table)->Endpoints().size() != replicas) Fail("Endpoints() misses replicas");
  if ((*table)->LocalEndpoints().size() != sockets) Fail("LocalEndpoints() misses sockets");
  // The same table again, on top of itself, as a repeated route push.
  auto again = RouteTable::Build(built, table->get());
  if (!again.ok()) Fail("a table that parsed once fails on top of itself");
  for (const auto& api : (*again)->apis()) CheckApi(**again, *api, table->get());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // the gateway answers 400 before FromJson
  try {
    Check(json, nullptr);
    Check(json, &Previous());
  } catch (const std::exception& e) {
    Fail(std::string("exception escaped the route table's parsing or building: ") + e.what());
  }
  return 0;
}
