#include "kube/manifests.h"

#include <algorithm>

#include "kube/resource.h"

namespace axon::kube {
namespace {

namespace fs = std::filesystem;

// `path` moved from under `root` to under kBundleDir; unchanged when it is not under `root`.
std::string Rebase(const std::string& path, const fs::path& root) {
  if (path.empty() || root.empty()) return path;
  const fs::path p(path);
  const fs::path rel = p.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") return path;
  return (fs::path(kBundleDir) / rel).lexically_normal().string();
}

Json LabelsJson(const std::map<std::string, std::string>& labels) {
  Json j = Json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

Json EnvVar(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

Json Resources(const spec::ComputeSpec& compute) {
  Json requests = {{"cpu", CpuQuantity(compute.cpu_millis)}};
  Json limits = Json::object();
  if (compute.mem_bytes > 0) {
    requests["memory"] = MemoryQuantity(compute.mem_bytes);
    limits["memory"] = MemoryQuantity(compute.mem_bytes);
  }
  if (compute.gpu > 0) {  // extended resources: the request must equal the limit
    requests[kGpuResource] = std::to_string(compute.gpu);
    limits[kGpuResource] = std::to_string(compute.gpu);
  }
  Json out = {{"requests", requests}};
  if (!limits.empty()) out["limits"] = limits;
  return out;
}

// Environment of a replica, as the local backend sets it: the spec's env, and one BLAS/OpenMP
// thread per intra-op thread unless the spec says otherwise.
Json ReplicaEnv(const spec::PredictorSpec& p) {
  std::map<std::string, std::string> env = p.env;
  const std::string threads = std::to_string(p.intra_op_threads);
  env.emplace("OMP_NUM_THREADS", threads);
  env.emplace("OPENBLAS_NUM_THREADS", threads);
  Json out = Json::array();
  out.push_back(
      {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}});
  for (const auto& [k, v] : env) out.push_back(EnvVar(k, v));
  return out;
}

void AddPlacement(const std::vector<std::string>& node_groups, Json* pod) {
  if (node_groups.empty()) return;
  (*pod)["affinity"] = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {{"nodeSelectorTerms",
           {{{"matchExpressions",
              {{{"key", kNodeGroupLabel}, {"operator", "In"}, {"values", node_groups}}}}}}}}}}}};
  Json tolerations = Json::array();
  for (const std::string& group : node_groups) {
    tolerations.push_back({{"key", kNodeGroupLabel},
                           {"operator", "Equal"},
                           {"value", group},
                           {"effect", "NoSchedule"}});
  }
  (*pod)["tolerations"] = tolerations;
}

Json ReplicaArgs(const ClusterOptions& cluster, const BundleSource& bundle) {
  Json args = {"--spec",       std::string(kSpecDir) + "/spec.json",
               "--replica-id", "$(POD_NAME)",
               "--host",       "0.0.0.0",
               "--port",       std::to_string(kReplicaPort),
               "--error-file", "/dev/termination-log",
               "--drain-ms",   std::to_string(cluster.drain_ms)};
  if (!bundle.hash.empty()) {
    const std::string fetch[] = {"--bundle-url", bundle.fetch_url, "--bundle-hash",
                                 bundle.hash,    "--bundle-key",   bundle.key};
    for (const std::string& arg : fetch) args.push_back(arg);
  }
  return args;
}

// A command predictor with an image: the user's container runs the user's server itself, on
// $AXON_PORT (or its fixed port), probed on its readiness path (else: accepting connections).
Json UserServerContainer(const ClusterOptions& cluster, const spec::ApiSpec& spec) {
  const spec::CommandSpec& c = spec.predictor.command;
  const int port = c.port > 0 ? c.port : kReplicaPort;
  Json env = ReplicaEnv(spec.predictor);
  env.push_back(EnvVar("AXON_PORT", std::to_string(port)));
  env.push_back(EnvVar("AXON_API", spec.name));
  Json probe = c.readiness_path.empty()
                   ? Json{{"tcpSocket", {{"port", "http"}}}}
                   : Json{{"httpGet", {{"path", c.readiness_path}, {"port", "http"}}}};
  probe["periodSeconds"] = 1;
  probe["timeoutSeconds"] = 1;
  probe["successThreshold"] = 1;
  probe["failureThreshold"] = 2;
  return {
      {"name", kReplicaContainer},
      {"image", c.image},
      {"imagePullPolicy", cluster.image_pull_policy},
      {"command", c.argv},
      {"env", std::move(env)},
      {"ports", {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}}},
      {"readinessProbe", std::move(probe)},
      {"resources", Resources(spec.compute)},
      {"lifecycle", PreStopLifecycle(cluster)},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
}

Json ReplicaContainer(const ClusterOptions& cluster, const spec::ApiSpec& spec,
                      const BundleSource& bundle) {
  if (spec.predictor.type == "command" && !spec.predictor.command.image.empty()) {
    return UserServerContainer(cluster, spec);
  }
  return {
      {"name", kReplicaContainer},
      {"image", cluster.replica_image},
      {"imagePullPolicy", cluster.image_pull_policy},
      {"command", {"/usr/bin/axon-replica"}},
      {"args", ReplicaArgs(cluster, bundle)},
      {"workingDir", kBundleDir},
      {"env", ReplicaEnv(spec.predictor)},
      {"ports", {{{"name", "http"}, {"containerPort", kReplicaPort}, {"protocol", "TCP"}}}},
      {"readinessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}},
        {"periodSeconds", 1},
        {"timeoutSeconds", 1},
        {"successThreshold", 1},
        {"failureThreshold", 2}}},
      {"resources", Resources(spec.compute)},
      {"lifecycle", PreStopLifecycle(cluster)},
      // A predictor that fails to load writes why here (the replica's --error-file); if it
      // could not, the kubelet takes the end of the log.
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"volumeMounts",
       {{{"name", "spec"}, {"mountPath", kSpecDir}, {"readOnly", true}},
        {{"name", "bundle"}, {"mountPath", kBundleDir}}}},
  };
}

}  // namespace

std::string ApiObjectName(const std::string& api) { return "api-" + api; }

std::string VersionObjectName(const std::string& api, int64_t version) {
  return ApiObjectName(api) + "-v" + std::to_string(version);
}

std::map<std::string, std::string> VersionLabels(const std::string& api, int64_t version) {
  return {{kApiLabel, api}, {kVersionLabel, std::to_string(version)}};
}

std::map<std::string, std::string> ApiSelector(const std::string& api) {
  return {{kPartOfLabel, "axon"}, {kApiLabel, api}};
}

std::string ReplicaSelector(const std::string& api) {
  std::map<std::string, std::string> labels = {{kPartOfLabel, "axon"},
                                               {kComponentLabel, kReplicaComponent}};
  if (!api.empty()) labels[kApiLabel] = api;
  return LabelSelector(labels);
}

spec::ApiSpec SpecForPod(const spec::ApiSpec& spec, const fs::path& bundle_root) {
  spec::ApiSpec out = spec;
  out.predictor.path = Rebase(out.predictor.path, bundle_root);
  out.predictor.model.model_path = Rebase(out.predictor.model.model_path, bundle_root);
  for (auto& m : out.predictor.models) m.model_path = Rebase(m.model_path, bundle_root);
  return out;
}

Json Metadata(const std::string& name, const std::string& ns,
              std::map<std::string, std::string> labels, const std::optional<OwnerRef>& owner) {
  labels[kPartOfLabel] = "axon";
  Json meta = {{"name", name}, {"labels", LabelsJson(labels)}};
  if (!ns.empty()) meta["namespace"] = ns;
  if (owner) {
    meta["ownerReferences"] = {{{"apiVersion", owner->api_version},
                                {"kind", owner->kind},
                                {"name", owner->name},
                                {"uid", owner->uid},
                                {"controller", true},
                                {"blockOwnerDeletion", true}}};
  }
  return meta;
}

Json VersionConfigMap(const ClusterOptions& cluster, const spec::ApiSpec& pod_spec, int64_t version,
                      const std::optional<OwnerRef>& owner) {
  auto labels = VersionLabels(pod_spec.name, version);
  labels[kComponentLabel] = "api-spec";
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", Metadata(VersionObjectName(pod_spec.name, version), cluster.ns, labels, owner)},
      {"data", {{"spec.json", spec::ToJson(pod_spec).dump(2)}}}};
}

Json BundleConfigMap(const ClusterOptions& cluster, const std::string& api, int64_t version,
                     const std::map<std::string, std::string>& files,
                     const std::optional<OwnerRef>& owner) {
  auto labels = VersionLabels(api, version);
  labels[kComponentLabel] = "api-bundle";
  Json data = Json::object();
  for (const auto& [name, content] : files) data[name] = content;
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           Metadata(VersionObjectName(api, version) + "-bundle", cluster.ns, labels, owner)},
          {"data", data}};
}

Json ApiDeployment(const ClusterOptions& cluster, const spec::ApiSpec& pod_spec, int64_t version,
                   const ApiDeploymentOptions& options) {
  auto labels = VersionLabels(pod_spec.name, version);
  labels[kComponentLabel] = kReplicaComponent;
  labels[kPartOfLabel] = "axon";
  Json bundle =
      options.bundle.config_map.empty()
          ? Json{{"name", "bundle"}, {"emptyDir", Json::object()}}
          : Json{{"name", "bundle"}, {"configMap", {{"name", options.bundle.config_map}}}};
  Json pod = {
      {"serviceAccountName", "axon-replica"},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"terminationGracePeriodSeconds", TerminationGraceSeconds(cluster)},
      {"containers", {ReplicaContainer(cluster, pod_spec, options.bundle)}},
      {"volumes",
       {{{"name", "spec"}, {"configMap", {{"name", VersionObjectName(pod_spec.name, version)}}}},
        bundle}},
  };
  AddPlacement(pod_spec.node_groups, &pod);
  Json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", Metadata(ApiObjectName(pod_spec.name), cluster.ns, labels, options.owner)},
      {"spec",
       {{"selector", {{"matchLabels", LabelsJson(ApiSelector(pod_spec.name))}}},
        {"strategy",
         {{"type", "RollingUpdate"},
          {"rollingUpdate",
           {{"maxSurge", IntOrPercent(pod_spec.update_strategy.max_surge)},
            {"maxUnavailable", IntOrPercent(pod_spec.update_strategy.max_unavailable)}}}}},
        {"template", {{"metadata", {{"labels", LabelsJson(labels)}}}, {"spec", pod}}}}}};
  deployment["spec"]["replicas"] = options.replicas;
  return deployment;
}

Json PreStopLifecycle(const ClusterOptions& cluster) {
  return {
      {"preStop", {{"exec", {{"command", {"sleep", std::to_string(cluster.pre_stop_seconds)}}}}}}};
}

int64_t TerminationGraceSeconds(const ClusterOptions& cluster) {
  return cluster.pre_stop_seconds + (cluster.drain_ms + 999) / 1000 + 5;
}

std::string CpuQuantity(int64_t millis) {
  if (millis % 1000 == 0) return std::to_string(millis / 1000);
  return std::to_string(millis) + "m";
}

std::string MemoryQuantity(int64_t bytes) {
  static constexpr std::pair<const char*, int64_t> kUnits[] = {
      {"Ti", 1ll << 40}, {"Gi", 1ll << 30}, {"Mi", 1ll << 20}, {"Ki", 1ll << 10}};
  for (const auto& [suffix, size] : kUnits) {
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + suffix;
  }
  return std::to_string(bytes);
}

Json IntOrPercent(const spec::CountOrPercent& value) {
  if (value.percent) return std::to_string(value.value) + "%";
  return value.value;
}

}  // namespace axon::kube
