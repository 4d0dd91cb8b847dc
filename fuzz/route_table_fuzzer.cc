// Fuzzes gateway::RouteTable::FromJson: the input is a route table as the operator sends it
// (PUT /_axon/routes) or as the gateway reads it back from its routes file. It is parsed alone
// and on top of a previous table, as a route update does.
//
// Checked besides the sanitizers: no exception escapes; an accepted table finds each API at its
// endpoint, lists every replica's endpoint, keeps the counters of APIs that carry over, and
// picking and releasing replicas leaves no request counted in flight.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "gateway/route_table.h"

namespace {

using axon::gateway::ApiRoute;
using axon::gateway::RouteTable;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "route_table: %s\n", what.c_str());
  std::abort();
}

// A table as the operator writes it: one API over TCP, one over a Unix socket, one asleep.
const RouteTable& Previous() {
  static const auto table = RouteTable::FromJson(nlohmann::json::parse(R"({"apis": [
    {"name": "iris", "endpoint": "/iris", "max_replica_concurrency": 2, "timeout_ms": 1000,
     "status": "live", "replicas": [{"id": "iris-1", "host": "127.0.0.1", "port": 9001},
                                    {"id": "iris-2", "host": "127.0.0.1", "port": 9002}]},
    {"name": "mlp", "endpoint": "/mlp", "status": "live",
     "replicas": [{"id": "mlp-1", "host": "127.0.0.1", "port": 9003, "socket": "@mlp-1"}]},
    {"name": "text", "endpoint": "/text", "status": "scaled to zero", "scale_to_zero": true,
     "hold_timeout_ms": 100, "max_held": 4, "replicas": []}]})"),
                                                 nullptr);
  if (!table.ok()) Fail("the previous table does not parse: " + table.status().message());
  return **table;
}

void CheckApi(const RouteTable& table, const ApiRoute& api, const RouteTable* previous) {
  if (table.Find(api.endpoint) != &api) Fail("api " + api.name + " not found at its endpoint");
  if (api.stats == nullptr) Fail("api " + api.name + " has no statistics");
  const ApiRoute* old = previous != nullptr ? previous->Find(api.endpoint) : nullptr;
  if (old != nullptr && old->name == api.name && old->stats != api.stats) {
    Fail("api " + api.name + " lost its counters in a route update");
  }
  // Take up to three replicas as requests would, then give them back.
  std::vector<axon::gateway::ReplicaTarget*> taken;
  for (int i = 0; i < 3; ++i) {
    if (auto* replica = api.AcquireReplica(taken.empty() ? nullptr : taken.back())) {
      taken.push_back(replica);
    }
  }
  for (auto* replica : taken) replica->in_flight.fetch_sub(1);
  if (api.InFlight() != 0) Fail("api " + api.name + " counts requests that were given back");
}

void Check(const nlohmann::json& json, const RouteTable* previous) {
  auto table = RouteTable::FromJson(json, previous);
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
  auto again = RouteTable::FromJson(json, table->get());
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
    Fail(std::string("exception escaped RouteTable::FromJson: ") + e.what());
  }
  return 0;
}
