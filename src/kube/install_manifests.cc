#include "kube/install_manifests.h"

#include "kube/base64.h"

namespace axon::kube {
namespace {

constexpr char kOperator[] = "axon-operator";
constexpr char kGateway[] = "axon-gateway";

Json Labels(const std::string& component) {
  return {{kPartOfLabel, "axon"},
          {kComponentLabel, component},
          {"app.kubernetes.io/name", "axon-" + component}};
}

std::map<std::string, std::string> LabelMap(const std::string& component) {
  return {{kComponentLabel, component}, {"app.kubernetes.io/name", "axon-" + component}};
}

Json Rule(std::vector<std::string> groups, std::vector<std::string> resources,
          std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}

Json HttpProbe(const std::string& path, const std::string& port) {
  return {{"httpGet", {{"path", path}, {"port", port}}},
          {"periodSeconds", 2},
          {"timeoutSeconds", 1},
          {"failureThreshold", 2}};
}

// A Deployment of one control-plane component (operator or gateway).
Json ComponentDeployment(const ClusterOptions& cluster, const std::string& component, int replicas,
                         const std::string& strategy, Json pod) {
  const std::string name = "axon-" + component;
  Json selector = {{kPartOfLabel, "axon"}, {kComponentLabel, component}};
  Json spec = {{"replicas", replicas},
               {"selector", {{"matchLabels", selector}}},
               {"strategy", {{"type", strategy}}},
               {"template", {{"metadata", {{"labels", Labels(component)}}}, {"spec", pod}}}};
  if (strategy == "RollingUpdate") {
    spec["strategy"]["rollingUpdate"] = {{"maxSurge", 1}, {"maxUnavailable", 0}};
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", Metadata(name, cluster.ns, LabelMap(component))},
          {"spec", spec}};
}

Json ComponentService(const ClusterOptions& cluster, const std::string& component, Json ports) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Metadata("axon-" + component, cluster.ns, LabelMap(component))},
          {"spec",
           {{"type", cluster.service_type},
            {"selector", {{kPartOfLabel, "axon"}, {kComponentLabel, component}}},
            {"ports", ports}}}};
}

// The container of a control-plane component, from the control image.
Json ControlContainer(const ClusterOptions& cluster, const std::string& name,
                      const std::string& program, std::vector<std::string> args) {
  return {{"name", name},
          {"image", cluster.control_image},
          {"imagePullPolicy", cluster.image_pull_policy},
          {"command", {"/usr/bin/" + program}},
          {"args", args}};
}

Json Port(const std::string& name, int port) {
  return {{"name", name}, {"port", port}, {"targetPort", name}, {"protocol", "TCP"}};
}

Json PrinterColumn(const std::string& name, const std::string& type, const std::string& path) {
  return {{"name", name}, {"type", type}, {"jsonPath", path}};
}

}  // namespace

Json Namespace(const ClusterOptions& cluster) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Metadata(cluster.ns, "", {})}};
}

Json AxonApiCrd() {
  const Json integer = {{"type", "integer"}};
  const Json string = {{"type", "string"}};
  Json schema = {
      {"type", "object"},
      {"properties",
       {{"spec",
         {{"type", "object"},
          {"required", {"version", "api"}},
          {"properties",
           {{"version", {{"type", "integer"}, {"minimum", 1}}},
            {"contentHash", string},
            {"endpoint", string},
            // The API spec as JSON (spec::ToJson); validated by the operator, not here.
            {"api", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}},
        {"status",
         {{"type", "object"},
          {"properties",
           {{"status", string},
            {"message", string},
            {"observedVersion", integer},
            {"desiredReplicas", integer},
            {"readyReplicas", integer}}}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", Metadata(std::string("axonapis.") + kCrdGroup, "", {})},
          {"spec",
           {{"group", kCrdGroup},
            {"scope", "Namespaced"},
            {"names",
             {{"plural", "axonapis"},
              {"singular", "axonapi"},
              {"kind", "AxonAPI"},
              {"listKind", "AxonAPIList"}}},
            {"versions",
             {{{"name", kCrdVersion},
               {"served", true},
               {"storage", true},
               {"subresources", {{"status", Json::object()}}},
               {"additionalPrinterColumns",
                {PrinterColumn("Version", "integer", ".spec.version"),
                 PrinterColumn("Endpoint", "string", ".spec.endpoint"),
                 PrinterColumn("Status", "string", ".status.status"),
                 PrinterColumn("Ready", "integer", ".status.readyReplicas"),
                 PrinterColumn("Age", "date", ".metadata.creationTimestamp")}},
               {"schema", {{"openAPIV3Schema", schema}}}}}}}}};
}

Json ServiceAccount(const ClusterOptions& cluster, const std::string& name, bool mount_token) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", Metadata(name, cluster.ns, {})},
          {"automountServiceAccountToken", mount_token}};
}

Json OperatorRole(const ClusterOptions& cluster) {
  const std::vector<std::string> write = {"get",    "list",  "watch", "create",
                                          "update", "patch", "delete"};
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", Metadata(kOperator, cluster.ns, {})},
          {"rules",
           {
               // desired state
               Rule({kCrdGroup}, {"axonapis"}, write),
               Rule({kCrdGroup}, {"axonapis/status"}, {"get", "update", "patch"}),
               // each version's replicas and spec; the autoscaler writes scale
               Rule({"apps"}, {"deployments"}, write),
               Rule({"apps"}, {"deployments/scale"}, {"get", "update", "patch"}),
               Rule({""}, {"configmaps"}, write),
               // observing replicas and gateways (pod IPs, readiness, failure reasons), logs
               Rule({""}, {"pods"}, {"get", "list", "watch"}),
               Rule({""}, {"pods/log"}, {"get"}),
           }}};
}

Json OperatorRoleBinding(const ClusterOptions& cluster) {
  return {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", Metadata(kOperator, cluster.ns, {})},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kOperator}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", kOperator}, {"namespace", cluster.ns}}}}};
}

Json TokenSecret(const ClusterOptions& cluster, const std::string& token) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", Metadata(kTokenSecret, cluster.ns, {})},
          {"type", "Opaque"},
          {"data", {{"token", EncodeBase64(token)}}}};
}

Json OperatorStateClaim(const ClusterOptions& cluster) {
  Json spec = {{"accessModes", {"ReadWriteOnce"}},
               {"resources", {{"requests", {{"storage", cluster.state_size}}}}}};
  if (!cluster.state_storage_class.empty()) spec["storageClassName"] = cluster.state_storage_class;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", Metadata(kOperatorStateClaim, cluster.ns, LabelMap("operator"))},
          {"spec", spec}};
}

Json OperatorDeployment(const ClusterOptions& cluster) {
  // Kubernetes mode with the pod's service account; replicas fetch bundles through the
  // operator's Service (its address from the variables the kubelet sets for Services that
  // existed when the pod started: InstallObjects() applies the Services first), and the
  // operator pushes route tables to the gateway pods.
  Json container =
      ControlContainer(cluster, "operator", "axon-operator",
                       {"--host",
                        "0.0.0.0",
                        "--port",
                        std::to_string(cluster.operator_port),
                        "--drain-ms",
                        std::to_string(cluster.drain_ms),
                        "--backend",
                        "kubernetes",
                        "--namespace",
                        "$(POD_NAMESPACE)",
                        "--replica-image",
                        cluster.replica_image,
                        "--image-pull-policy",
                        cluster.image_pull_policy,
                        "--bundle-url",
                        "http://$(AXON_OPERATOR_SERVICE_HOST):$(AXON_OPERATOR_SERVICE_PORT)",
                        "--gateway",
                        "pods",
                        "--gateway-admin-port",
                        std::to_string(cluster.gateway_admin_port)});
  container.update(Json{
      {"env",
       {{{"name", "AXON_HOME"}, {"value", "/var/lib/axon"}},
        {{"name", "POD_NAMESPACE"},
         {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}}}},
      {"ports", {{{"name", "http"}, {"containerPort", cluster.operator_port}}}},
      {"readinessProbe", HttpProbe("/healthz", "http")},
      {"volumeMounts",
       {{{"name", "state"}, {"mountPath", "/var/lib/axon"}},
        {{"name", "token"},
         {"mountPath", "/var/lib/axon/token"},
         {"subPath", "token"},
         {"readOnly", true}}}},
  });
  Json state_volume = {{"name", "state"}};
  if (cluster.state_size.empty()) {
    state_volume["emptyDir"] = Json::object();
  } else {
    state_volume["persistentVolumeClaim"] = {{"claimName", kOperatorStateClaim}};
  }
  Json pod = {
      {"serviceAccountName", kOperator},
      {"enableServiceLinks", true},  // its own Service's address, without DNS
      {"containers", {container}},
      {"volumes",
       {state_volume,
        {{"name", "token"}, {"secret", {{"secretName", kTokenSecret}, {"defaultMode", 0400}}}}}}};
  // One operator at a time: Recreate never runs an old and a new one side by side (nor two on
  // the ReadWriteOnce state volume).
  return ComponentDeployment(cluster, "operator", 1, "Recreate", pod);
}

Json OperatorService(const ClusterOptions& cluster) {
  return ComponentService(cluster, "operator", {Port("http", cluster.operator_port)});
}

Json GatewayDeployment(const ClusterOptions& cluster) {
  Json container =
      ControlContainer(cluster, "gateway", "axon-gateway",
                       {"--host", "0.0.0.0", "--port", std::to_string(cluster.gateway_http_port),
                        "--grpc-port", std::to_string(cluster.gateway_grpc_port), "--admin-listen",
                        "0.0.0.0:" + std::to_string(cluster.gateway_admin_port), "--threads",
                        std::to_string(cluster.gateway_threads), "--token-file",
                        "/etc/axon/token/token", "--routes-file", "/var/lib/axon/routes.json",
                        "--drain-ms", std::to_string(cluster.drain_ms)});
  container.update(Json{
      {"ports",
       {{{"name", "http"}, {"containerPort", cluster.gateway_http_port}},
        {{"name", "grpc"}, {"containerPort", cluster.gateway_grpc_port}},
        {{"name", "admin"}, {"containerPort", cluster.gateway_admin_port}}}},
      {"readinessProbe", HttpProbe("/_axon/healthz", "http")},
      {"lifecycle", PreStopLifecycle(cluster)},
      {"volumeMounts",
       {{{"name", "state"}, {"mountPath", "/var/lib/axon"}},
        {{"name", "token"}, {"mountPath", "/etc/axon/token"}, {"readOnly", true}}}},
  });
  Json pod = {
      {"serviceAccountName", kGateway},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"terminationGracePeriodSeconds", TerminationGraceSeconds(cluster)},
      // Spread gateways over nodes when there are several.
      {"affinity",
       {{"podAntiAffinity",
         {{"preferredDuringSchedulingIgnoredDuringExecution",
           {{{"weight", 100},
             {"podAffinityTerm",
              {{"topologyKey", "kubernetes.io/hostname"},
               {"labelSelector",
                {{"matchLabels", {{kPartOfLabel, "axon"}, {kComponentLabel, "gateway"}}}}}}}}}}}}}},
      {"containers", {container}},
      {"volumes",
       {{{"name", "state"}, {"emptyDir", Json::object()}},
        {{"name", "token"}, {"secret", {{"secretName", kTokenSecret}, {"defaultMode", 0400}}}}}}};
  return ComponentDeployment(cluster, "gateway", cluster.gateway_replicas, "RollingUpdate", pod);
}

Json GatewayService(const ClusterOptions& cluster) {
  return ComponentService(
      cluster, "gateway",
      {Port("http", cluster.gateway_http_port), Port("grpc", cluster.gateway_grpc_port)});
}

std::vector<Json> InstallObjects(const ClusterOptions& cluster, const std::string& token) {
  std::vector<Json> objects = {Namespace(cluster),
                               AxonApiCrd(),
                               ServiceAccount(cluster, kOperator, true),
                               ServiceAccount(cluster, kGateway, false),
                               ServiceAccount(cluster, "axon-replica", false),
                               OperatorRole(cluster),
                               OperatorRoleBinding(cluster),
                               TokenSecret(cluster, token)};
  if (!cluster.state_size.empty()) objects.push_back(OperatorStateClaim(cluster));
  objects.insert(objects.end(), {OperatorService(cluster), GatewayService(cluster),
                                 OperatorDeployment(cluster), GatewayDeployment(cluster)});
  return objects;
}

Json AxonApiObject(const ClusterOptions& cluster, const spec::ApiSpec& spec, int64_t version,
                   const std::string& content_hash) {
  return {{"apiVersion", std::string(kCrdGroup) + "/" + kCrdVersion},
          {"kind", "AxonAPI"},
          {"metadata", Metadata(spec.name, cluster.ns, {{kApiLabel, spec.name}})},
          {"spec",
           {{"version", version},
            {"contentHash", content_hash},
            {"endpoint", spec.networking.endpoint},
            {"api", spec::ToJson(spec)}}}};
}

}  // namespace axon::kube
