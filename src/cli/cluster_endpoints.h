// Where the CLI reaches an installed cluster's operator and gateway from outside it: a
// LoadBalancer Service's ingress address, or a NodePort on a Ready node's address (its
// ExternalIP, else its InternalIP). Pure functions of the Service and Node objects; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::cli {

struct ServiceAddress {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// The address of `service`'s port named `port_name` (e.g. "http") from outside the cluster.
// kUnavailable while a LoadBalancer has no address yet, or when no node is Ready;
// kInvalidArgument for a Service that cannot be reached from outside (ClusterIP).
StatusOr<ServiceAddress> ExternalAddress(const nlohmann::json& service,
                                         const std::string& port_name,
                                         const std::vector<nlohmann::json>& nodes);

}  // namespace axon::cli
