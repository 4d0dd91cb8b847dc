// The Kubernetes objects of Axon, as pure functions of the spec and the install options: per
// API one Deployment (its replicas) and per version a ConfigMap (the spec the replicas of
// that version read); for an
// install the namespace, service accounts and RBAC, the AxonAPI CustomResourceDefinition, the
// platform token, and the operator's and the gateway's Deployments and Services (see
// install_manifests.h). Objects are JSON values ready to send to the API server. Thread-safe.
//
// Every object carries app.kubernetes.io/part-of: axon; per-API objects also axon.dev/api
// (and per-version ones axon.dev/version), so that deleting by label leaves nothing behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/api_spec.h"

namespace axon::kube {

using Json = nlohmann::json;

inline constexpr char kPartOfLabel[] = "app.kubernetes.io/part-of";  // value "axon"
inline constexpr char kComponentLabel[] = "app.kubernetes.io/component";
inline constexpr char kApiLabel[] = "axon.dev/api";
inline constexpr char kVersionLabel[] = "axon.dev/version";
inline constexpr char kReplicaComponent[] = "replica";  // kComponentLabel of replica pods
// Nodes of a node group carry this label (and, if the group is tainted, a NoSchedule taint
// with this key and the group's name as value).
inline constexpr char kNodeGroupLabel[] = "axon.dev/node-group";
inline constexpr char kGpuResource[] = "nvidia.com/gpu";

// Where things are inside a replica pod.
inline constexpr char kSpecDir[] = "/etc/axon/api";           // spec.json (the version's ConfigMap)
inline constexpr char kBundleDir[] = "/var/lib/axon/bundle";  // the predictor's folder
inline constexpr int kReplicaPort = 8080;
inline constexpr char kReplicaContainer[] = "replica";  // the container that runs the replica

// How Axon is installed in a cluster; shared by every object it creates there.
struct ClusterOptions {
  std::string ns = "axon";
  std::string replica_image = "axon-replica:latest";
  std::string control_image = "axon-control:latest";  // axon-operator and axon-gateway
  std::string image_pull_policy = "IfNotPresent";     // "Never" where images are side-loaded
  std::string service_type = "NodePort";              // or "LoadBalancer"
  int gateway_replicas = 1;
  int gateway_threads = 2;
  int gateway_http_port = 8888;
  int gateway_grpc_port = 9000;  // published by the Service; the gateway's gRPC listener
  // The gateway pods' admin listener (route tables, statistics; bearer token), which only the
  // operator calls, on each pod's address; not published by the Service.
  int gateway_admin_port = 9001;
  int operator_port = 8889;
  int64_t drain_ms = 30'000;  // how long a stopping replica or gateway finishes requests
  int pre_stop_seconds = 5;   // a terminating pod keeps serving this long, while it leaves
                              // the route tables, before it gets SIGTERM
  // The operator's state (its SQLite stores, the versions' bundles, uploads) lives on a
  // PersistentVolumeClaim of this size, so that a new operator pod finds it; "" keeps it on an
  // emptyDir, lost with the pod (for throwaway clusters without storage).
  std::string state_size = "10Gi";
  std::string state_storage_class;  // "" = the cluster's default StorageClass
};

// Where a version's predictor folder comes from in the pod.
struct BundleSource {
  // A ConfigMap whose keys are the files of a flat predictor folder (small Python predictors;
  // see BundleConfigMap()). Empty: an emptyDir.
  std::string config_map;
  // Set: the replica fetches bundle `hash` from the operator at `fetch_url` into the emptyDir
  // before it loads, with the bundle's key (contract/bundles.h), and checks its hash.
  std::string fetch_url;
  std::string hash;
  std::string key;
};

// The controller that owns an object (for garbage collection), e.g. the AxonAPI.
struct OwnerRef {
  std::string api_version, kind, name, uid;
};

// "api-<api>": the name of an API's Deployment ("api-" keeps it apart from Axon's own).
std::string ApiObjectName(const std::string& api);
// "api-<api>-v<version>": the name of a version's spec ConfigMap.
std::string VersionObjectName(const std::string& api, int64_t version);

// The labels of a version's objects.
std::map<std::string, std::string> VersionLabels(const std::string& api, int64_t version);
// The selector of an API's replica pods (all versions).
std::map<std::string, std::string> ApiSelector(const std::string& api);
// The label selector ("k=v,...") of the replica pods and Deployments of every API, or, with
// `api`, of that API's only.
std::string ReplicaSelector(const std::string& api = "");

// `spec` with the paths under `bundle_root` (the predictor folder on the operator's machine)
// moved under kBundleDir, as the replica in the pod must see them.
spec::ApiSpec SpecForPod(const spec::ApiSpec& spec, const std::filesystem::path& bundle_root);

// The ConfigMap holding spec.json (spec::ToJson of a SpecForPod()) for one version.
Json VersionConfigMap(const ClusterOptions& cluster, const spec::ApiSpec& pod_spec, int64_t version,
                      const std::optional<OwnerRef>& owner = std::nullopt);

// A ConfigMap of files (name -> content) for BundleSource::config_map.
Json BundleConfigMap(const ClusterOptions& cluster, const std::string& api, int64_t version,
                     const std::map<std::string, std::string>& files,
                     const std::optional<OwnerRef>& owner = std::nullopt);

struct ApiDeploymentOptions {
  // spec.replicas: the count the operator wants now (the autoscaler's). Every apply must carry
  // it: with server-side apply, a later apply that leaves replicas out removes the field (on
  // Kubernetes 1.20 even after the scale subresource changed it), and it falls back to 1.
  int64_t replicas = 1;
  BundleSource bundle;
  std::optional<OwnerRef> owner;
};

// The API's Deployment, running version `version` (`pod_spec`): requests/limits from compute,
// readiness on /healthz, preStop + grace period for draining, load errors as the termination
// message, the spec's node_groups as node affinity and tolerations. One Deployment serves every
// version of the API: applying it for a new version changes its pod template (the version label and
// the spec ConfigMap), so Kubernetes rolls the replicas over with RollingUpdate and
// update_strategy's max_surge / max_unavailable; a rollback is the same for an older version.
Json ApiDeployment(const ClusterOptions& cluster, const spec::ApiSpec& pod_spec, int64_t version,
                   const ApiDeploymentOptions& options);

// The lifecycle of a draining pod: `preStop: sleep pre_stop_seconds`, and the grace period
// that covers it, the drain and a margin before SIGKILL.
Json PreStopLifecycle(const ClusterOptions& cluster);
int64_t TerminationGraceSeconds(const ClusterOptions& cluster);

// Kubernetes quantities: "250m" for 250 millicores, "512Mi"-style bytes when exact.
std::string CpuQuantity(int64_t millis);
std::string MemoryQuantity(int64_t bytes);
// A spec::CountOrPercent as an IntOrString ("25%" or 1).
Json IntOrPercent(const spec::CountOrPercent& value);

// metadata with name, namespace (if any), labels (part-of added) and owner.
Json Metadata(const std::string& name, const std::string& ns,
              std::map<std::string, std::string> labels,
              const std::optional<OwnerRef>& owner = std::nullopt);

}  // namespace axon::kube
