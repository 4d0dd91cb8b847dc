// What the controller needs of the gateways that serve its APIs: they get every route table,
// and they report statistics, metrics and requests held for APIs at zero replicas. Two kinds:
// GatewayLink (a gateway process the operator runs, locally or beside a cluster) and
// GatewayPods (the gateway pods of an installed cluster, with the operator in it).
//
// Threading: Sync() and Stop() from the reconcile thread only; Stats(), Metrics() and
// WaitForHeld() from any thread. Each implementation says how long its calls may block.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "contract/routes.h"
#include "contract/stats.h"

namespace axon::operator_ {

class Gateways {
 public:
  virtual ~Gateways() = default;

  // Makes sure the gateways serve `routes`. Pushes only what changed. Returns true when every
  // gateway is known to serve exactly `routes`.
  virtual bool Sync(const contract::RouteTable& routes) = 0;
  // Per-API statistics over all gateways, with in-flight samples newer than
  // `samples_after_unix_ms`; empty if none can be reached.
  virtual contract::GatewayStats Stats(int64_t samples_after_unix_ms) const = 0;
  // The gateways' Prometheus metrics (text); "" if none can be reached.
  virtual std::string Metrics() const = 0;
  // How many requests the gateways have held for an API with no ready replica, once that is
  // more than `after` or `wait` has passed; an error if they cannot be asked.
  virtual StatusOr<int64_t> WaitForHeld(int64_t after, std::chrono::milliseconds wait) const = 0;
  // Stops gateways this operator runs (none for GatewayPods: the cluster runs them).
  virtual void Stop() = 0;
  // Where clients reach the gateways, for `axon info` ("host:port").
  virtual std::string address() const = 0;
};

}  // namespace axon::operator_
