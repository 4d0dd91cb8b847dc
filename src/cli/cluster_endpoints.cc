#include "cli/cluster_endpoints.h"

namespace axon::cli {
namespace {

using Json = nlohmann::json;

bool NodeReady(const Json& node) {
  for (const Json& c : node.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

std::string NodeAddress(const Json& node) {
  std::string internal;
  for (const Json& a : node.value("status", Json::object()).value("addresses", Json::array())) {
    if (a.value("type", "") == "ExternalIP") return a.value("address", "");
    if (a.value("type", "") == "InternalIP" && internal.empty()) internal = a.value("address", "");
  }
  return internal;
}

}  // namespace

StatusOr<ServiceAddress> ExternalAddress(const Json& service, const std::string& port_name,
                                         const std::vector<Json>& nodes) {
  const Json meta = service.value("metadata", Json::object());
  const std::string what = "Service " + meta.value("namespace", "") + "/" + meta.value("name", "");
  const Json spec = service.value("spec", Json::object());
  const std::string type = spec.value("type", "ClusterIP");
  Json port;
  for (const Json& p : spec.value("ports", Json::array())) {
    if (p.value("name", "") == port_name) port = p;
  }
  if (port.is_null()) return NotFound(what + " has no port named " + port_name);
  if (type == "LoadBalancer") {
    const Json ingress = service.value("status", Json::object())
                             .value("loadBalancer", Json::object())
                             .value("ingress", Json::array());
    for (const Json& i : ingress) {
      std::string host = i.value("ip", "");
      if (host.empty()) host = i.value("hostname", "");
      if (!host.empty()) return ServiceAddress{host, port.value("port", 0)};
    }
    return Unavailable(what + ": the load balancer has no address yet (try again in a minute)");
  }
  if (type != "NodePort") {
    return InvalidArgument(what + " is of type " + type +
                           ": not reachable from outside the cluster (install with "
                           "--service-type NodePort or LoadBalancer)");
  }
  const int node_port = port.value("nodePort", 0);
  if (node_port == 0) return Unavailable(what + ": no node port assigned yet");
  for (const Json& node : nodes) {
    if (!NodeReady(node)) continue;
    if (std::string host = NodeAddress(node); !host.empty()) {
      return ServiceAddress{host, node_port};
    }
  }
  return Unavailable(what + " is a NodePort Service, but no node is Ready with an address");
}

}  // namespace axon::cli
