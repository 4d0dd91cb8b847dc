// RouteTable::Metrics(): the gateway's part of the platform's Prometheus metrics (the list is in
// docs/observability.md). Runs on the admin listener, never on the request path.
#include <string>

#include "common/exposition.h"
#include "gateway/route_table.h"

namespace axon::gateway {

std::string RouteTable::Metrics() const {
  Exposition out;
  out.Family("axon_requests_total", "counter",
             "Predictions answered by the gateway, by API, API version (none: answered before a "
             "replica was chosen, or by a traffic splitter) and HTTP status code.");
  for (const auto& api : apis_) {
    for (const auto& [version, counters] : api->shared->stats.Versions()) {
      const std::string v = version == 0 ? "none" : std::to_string(version);
      for (unsigned code = StatusCounters::kMinCode; code <= StatusCounters::kMaxCode; ++code) {
        const uint64_t n = counters->Get(code);
        if (n == 0) continue;
        const std::string status = std::to_string(code);
        out.Sample("axon_requests_total",
                   {{"api", api->name()}, {"version", v}, {"status", status}},
                   static_cast<double>(n));
      }
    }
  }
  out.Family("axon_request_duration_seconds", "histogram",
             "Time from a prediction's arrival at the gateway to its answer, by API.");
  for (const auto& api : apis_) {
    out.Histogram("axon_request_duration_seconds", {{"api", api->name()}},
                  api->shared->stats.Latency(), 1e6);
  }
  out.Family("axon_queue_wait_seconds", "histogram",
             "Time a prediction waited at the gateway for a free replica before it was sent, by "
             "API.");
  for (const auto& api : apis_) {
    out.Histogram("axon_queue_wait_seconds", {{"api", api->name()}}, api->shared->stats.QueueWait(),
                  1e6);
  }
  out.Family("axon_in_flight_requests", "gauge",
             "Predictions in flight now (sent to replicas or waiting at the gateway), by API.");
  for (const auto& api : apis_) {
    out.Sample("axon_in_flight_requests", {{"api", api->name()}},
               static_cast<double>(api->InFlight()));
  }
  out.Family("axon_queued_requests", "gauge",
             "Predictions waiting at the gateway for a free replica now, by API.");
  for (const auto& api : apis_) {
    out.Sample("axon_queued_requests", {{"api", api->name()}},
               static_cast<double>(api->shared->queue.size()));
  }
  out.Family("axon_replica_in_flight_requests", "gauge",
             "Requests the gateway has sent to a ready replica and not had answered yet.");
  for (const auto& api : apis_) {
    for (const auto& r : api->replicas) {
      out.Sample("axon_replica_in_flight_requests", {{"api", api->name()}, {"replica", r->id}},
                 static_cast<double>(r->in_flight.load(std::memory_order_relaxed)));
    }
  }
  return out.Take();
}

}  // namespace axon::gateway
