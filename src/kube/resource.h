// Paths of Kubernetes resources: which group, version and plural a kind lives under, and the
// REST path of a collection or an object. Pure functions over a fixed table of the kinds Axon
// reads and writes; thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::kube {

struct ResourceKind {
  std::string api_version;  // "v1", "apps/v1", "axon.dev/v1alpha1"
  std::string kind;         // "Deployment"
  std::string plural;       // "deployments"
  bool namespaced = true;
};

// The kind's entry in the table (Namespace, ServiceAccount, Service, ConfigMap, Secret, Pod,
// PersistentVolumeClaim, Deployment, Role, RoleBinding, ClusterRole, ClusterRoleBinding,
// CustomResourceDefinition, Lease, AxonAPI); kNotFound for others.
StatusOr<ResourceKind> FindKind(const std::string& api_version, const std::string& kind);

// "/api/v1/namespaces/NS/pods" or "/apis/apps/v1/namespaces/NS/deployments"; cluster-scoped
// kinds ignore `ns`. An empty `ns` for a namespaced kind means all namespaces.
std::string CollectionPath(const ResourceKind& kind, const std::string& ns);
std::string ObjectPath(const ResourceKind& kind, const std::string& ns, const std::string& name);
// The path of `object` from its apiVersion, kind, metadata.namespace (else `default_ns`) and
// metadata.name; errors name what is missing.
StatusOr<std::string> PathOf(const nlohmann::json& object, const std::string& default_ns);
StatusOr<std::string> CollectionPathOf(const nlohmann::json& object, const std::string& default_ns);

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string QueryEscape(const std::string& value);
// "?a=1&b=x%3Dy" from pairs whose value is not empty; "" when none is.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);
// "k1=v1,k2=v2" (an equality-based label selector).
std::string LabelSelector(const std::map<std::string, std::string>& labels);

}  // namespace axon::kube
