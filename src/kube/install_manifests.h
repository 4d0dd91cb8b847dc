// The objects `axon cluster install` creates, as pure functions of the install options (see
// manifests.h for the per-API ones). Thread-safe.
//
// Desired state lives in the cluster as AxonAPI objects (group axon.dev, a
// CustomResourceDefinition): one per API, holding its current spec and version, with a status
// subresource the operator writes. Each version's spec is an immutable ConfigMap owned by the
// AxonAPI, so a rollback points the AxonAPI at an older version whose ConfigMap is still there,
// and deleting the AxonAPI garbage-collects the API's ConfigMaps and Deployments.
//
// RBAC is namespaced and least-privilege: the operator's Role covers exactly what it reads and
// writes in its namespace; the gateway and the replicas run with no API access at all (their
// service accounts mount no token).
#pragma once

#include <string>
#include <vector>

#include "kube/manifests.h"

namespace axon::kube {

inline constexpr char kCrdGroup[] = "axon.dev";
inline constexpr char kCrdVersion[] = "v1alpha1";
inline constexpr char kTokenSecret[] = "axon-token";
inline constexpr char kOperatorStateClaim[] = "axon-operator-state";

// Everything an install applies, in an order that works on an empty cluster: namespace, CRD,
// service accounts, Role and RoleBinding, token Secret, the operator's state claim, operator and
// gateway Services, then their Deployments (the operator's pod reads its Service's address from its
// environment). `token` is the platform token the CLI and the gateway's admin paths use.
std::vector<Json> InstallObjects(const ClusterOptions& cluster, const std::string& token);

Json AxonApiCrd();
Json Namespace(const ClusterOptions& cluster);
Json ServiceAccount(const ClusterOptions& cluster, const std::string& name, bool mount_token);
Json OperatorRole(const ClusterOptions& cluster);
Json OperatorRoleBinding(const ClusterOptions& cluster);
Json TokenSecret(const ClusterOptions& cluster, const std::string& token);
// The operator's state volume (ClusterOptions::state_size): ReadWriteOnce, owned by no one but
// the namespace, so it outlives every operator pod and goes with `axon cluster uninstall`.
Json OperatorStateClaim(const ClusterOptions& cluster);
Json OperatorDeployment(const ClusterOptions& cluster);
Json OperatorService(const ClusterOptions& cluster);
Json GatewayDeployment(const ClusterOptions& cluster);
Json GatewayService(const ClusterOptions& cluster);

// An API's desired state: its spec (spec::ToJson, as the operator stored it), version and
// content hash.
Json AxonApiObject(const ClusterOptions& cluster, const spec::ApiSpec& spec, int64_t version,
                   const std::string& content_hash);

}  // namespace axon::kube
