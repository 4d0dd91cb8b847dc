// The generated objects: their fields, and every one of them checked against the Kubernetes
// API models by ../shared/tools/k8s-validate (Debian's python3-kubernetes).
#include "kube/manifests.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "kube/install_manifests.h"

namespace axon::kube {
namespace {

namespace fs = std::filesystem;

spec::ApiSpec PythonApi() {
  spec::ApiSpec s;
  s.name = "iris";
  s.predictor.type = "python";
  s.predictor.path = "/home/u/proj/iris/predictor.py";
  s.predictor.env = {{"MODE", "fast"}};
  s.compute.cpu_millis = 250;
  s.compute.mem_bytes = 512ll << 20;
  s.networking.endpoint = "/iris";
  return s;
}

spec::ApiSpec NativeApi() {
  spec::ApiSpec s;
  s.name = "mlp";
  s.predictor.type = "torchscript";
  s.predictor.model.type = "torchscript";
  s.predictor.model.model_path = "/srv/models/mlp/model.pt";
  s.predictor.intra_op_threads = 4;
  s.compute.cpu_millis = 2000;
  s.compute.gpu = 1;
  s.update_strategy.max_surge = {1, false};
  s.update_strategy.max_unavailable = {0, false};
  s.networking.endpoint = "/mlp";
  return s;
}

TEST(Manifests, Quantities) {
  EXPECT_EQ(CpuQuantity(250), "250m");
  EXPECT_EQ(CpuQuantity(2000), "2");
  EXPECT_EQ(MemoryQuantity(512ll << 20), "512Mi");
  EXPECT_EQ(MemoryQuantity(3ll << 30), "3Gi");
  EXPECT_EQ(MemoryQuantity(1000), "1000");
  EXPECT_EQ(IntOrPercent({25, true}), "25%");
  EXPECT_EQ(IntOrPercent({2, false}), 2);
}

TEST(Manifests, SpecForPodMovesBundlePathsOnly) {
  spec::ApiSpec s = PythonApi();
  spec::ModelSpec inside, outside;
  inside.model_path = "/home/u/proj/iris/models/m.onnx";
  outside.model_path = "/data/shared.onnx";
  s.predictor.models = {inside, outside};
  const spec::ApiSpec pod = SpecForPod(s, "/home/u/proj/iris");
  EXPECT_EQ(pod.predictor.path, "/var/lib/axon/bundle/predictor.py");
  EXPECT_EQ(pod.predictor.models[0].model_path, "/var/lib/axon/bundle/models/m.onnx");
  EXPECT_EQ(pod.predictor.models[1].model_path, "/data/shared.onnx");
  EXPECT_EQ(SpecForPod(NativeApi(), "/srv/models/mlp").predictor.model.model_path,
            "/var/lib/axon/bundle/model.pt");
}

spec::ApiSpec UserServerApi() {
  spec::ApiSpec s;
  s.name = "own";
  s.predictor.type = "command";
  s.predictor.command = {.argv = {"/app/serve", "--fast"},
                         .port = 9000,
                         .readiness_path = "/ready",
                         .image = "registry.local/app:1.2"};
  s.networking.endpoint = "/own";
  return s;
}

TEST(Manifests, ACommandWithAnImageRunsTheUsersServerInItsOwnContainer) {
  ClusterOptions cluster;
  cluster.image_pull_policy = "IfNotPresent";
  const Json d = ApiDeployment(cluster, UserServerApi(), 2, {.replicas = 1});
  const Json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "replica");
  EXPECT_EQ(c["image"], "registry.local/app:1.2");
  EXPECT_EQ(c["command"], Json({"/app/serve", "--fast"}));
  EXPECT_FALSE(c.contains("args"));
  EXPECT_FALSE(c.contains("volumeMounts"));  // the server is in the image
  EXPECT_EQ(c["ports"][0]["containerPort"], 9000);
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/ready");
  bool port_set = false;
  for (const Json& e : c["env"])
    port_set = port_set || (e["name"] == "AXON_PORT" && e["value"] == "9000");
  EXPECT_TRUE(port_set) << c["env"].dump();
  // Without a readiness path: ready once it accepts connections; without a port: 8080.
  spec::ApiSpec plain = UserServerApi();
  plain.predictor.command.port = 0;
  plain.predictor.command.readiness_path.clear();
  const Json p = ApiDeployment(cluster, plain, 1, {})["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(p["readinessProbe"]["tcpSocket"]["port"], "http");
  EXPECT_EQ(p["ports"][0]["containerPort"], kReplicaPort);
  // Without an image a command runs inside the replica image, under axon-replica.
  spec::ApiSpec inside = UserServerApi();
  inside.predictor.command.image.clear();
  EXPECT_EQ(
      ApiDeployment(cluster, inside, 1, {})["spec"]["template"]["spec"]["containers"][0]["command"],
      Json({"/usr/bin/axon-replica"}));
}

TEST(Manifests, VersionDeployment) {
  ClusterOptions cluster;
  cluster.replica_image = "axon-replica:1";
  cluster.image_pull_policy = "Never";
  cluster.drain_ms = 20'000;
  const spec::ApiSpec s = SpecForPod(PythonApi(), "/home/u/proj/iris");
  const Json d = ApiDeployment(cluster, s, 3,
                               {.replicas = 2,
                                .bundle = {.config_map = "api-iris-v3-bundle"},
                                .owner = OwnerRef{"axon.dev/v1alpha1", "AxonAPI", "iris", "u-1"}});
  EXPECT_EQ(d["metadata"]["name"], "api-iris");
  EXPECT_EQ(d["metadata"]["namespace"], "axon");
  for (const Json& labels :
       {d["metadata"]["labels"], d["spec"]["template"]["metadata"]["labels"]}) {
    EXPECT_EQ(labels["app.kubernetes.io/part-of"], "axon");
    EXPECT_EQ(labels["axon.dev/api"], "iris");
    EXPECT_EQ(labels["axon.dev/version"], "3");
  }
  // The selector spans versions, so that a new version is a rolling update of the same pods.
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"],
            Json({{"app.kubernetes.io/part-of", "axon"}, {"axon.dev/api", "iris"}}));
  // ReplicaSelector() selects the pods (and the Deployment) by the labels they carry.
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"], "replica");
  EXPECT_EQ(d["metadata"]["labels"]["app.kubernetes.io/component"], "replica");
  EXPECT_EQ(ReplicaSelector("iris"),
            "app.kubernetes.io/component=replica,app.kubernetes.io/part-of=axon,axon.dev/api=iris");
  EXPECT_EQ(ReplicaSelector(),
            "app.kubernetes.io/component=replica,app.kubernetes.io/part-of=axon");
  EXPECT_EQ(d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], "api-iris-v3");
  EXPECT_EQ(d["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
  const Json& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["terminationGracePeriodSeconds"], 5 + 20 + 5);
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_FALSE(pod.contains("affinity"));
  EXPECT_EQ(pod["volumes"][1]["configMap"]["name"], "api-iris-v3-bundle");
  const Json& c = pod["containers"][0];
  EXPECT_EQ(c["image"], "axon-replica:1");
  EXPECT_EQ(c["imagePullPolicy"], "Never");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["resources"]["requests"], Json({{"cpu", "250m"}, {"memory", "512Mi"}}));
  EXPECT_EQ(c["resources"]["limits"], Json({{"memory", "512Mi"}}));
  EXPECT_EQ(c["lifecycle"]["preStop"]["exec"]["command"], Json({"sleep", "5"}));
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(c["workingDir"], "/var/lib/axon/bundle");
  const auto& args = c["args"];
  EXPECT_NE(std::find(args.begin(), args.end(), "0.0.0.0"), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "--error-file"), args.end());
  EXPECT_EQ(c["env"][0]["name"], "POD_NAME");
  bool has_mode = false;
  for (const Json& e : c["env"]) has_mode |= e.value("name", "") == "MODE";
  EXPECT_TRUE(has_mode);
}

TEST(Manifests, GpuStrategyAndNodeGroups) {
  spec::ApiSpec api = NativeApi();
  api.node_groups = {"gpu-spot", "gpu"};
  const Json d = ApiDeployment({}, api, 1, {});
  const Json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["resources"]["requests"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "2");
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"], Json({{"maxSurge", 1}, {"maxUnavailable", 0}}));
  EXPECT_EQ(d["spec"]["replicas"], 1);
  const Json& pod = d["spec"]["template"]["spec"];
  const Json& term =
      pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
         ["nodeSelectorTerms"][0]["matchExpressions"][0];
  EXPECT_EQ(term["key"], "axon.dev/node-group");
  EXPECT_EQ(term["values"], Json({"gpu-spot", "gpu"}));
  EXPECT_EQ(pod["tolerations"].size(), 2u);
  EXPECT_EQ(pod["tolerations"][0]["value"], "gpu-spot");
  EXPECT_EQ(pod["volumes"][1]["emptyDir"], Json::object());
  bool omp = false;
  for (const Json& e : c["env"])
    omp |= e.value("name", "") == "OMP_NUM_THREADS" && e["value"] == "4";
  EXPECT_TRUE(omp);
}

TEST(Manifests, VersionConfigMapHoldsTheSpec) {
  const spec::ApiSpec s = SpecForPod(PythonApi(), "/home/u/proj/iris");
  const Json cm = VersionConfigMap({}, s, 3);
  EXPECT_EQ(cm["metadata"]["name"], "api-iris-v3");
  const spec::ApiSpec back =
      spec::ApiSpecFromJson(Json::parse(cm["data"]["spec.json"].get<std::string>()));
  EXPECT_EQ(back, s);
}

TEST(InstallManifests, EveryObjectIsPartOfAxonWithLeastRbac) {
  ClusterOptions cluster;
  cluster.service_type = "LoadBalancer";
  const auto objects = InstallObjects(cluster, "tok");
  ASSERT_EQ(objects.size(), 13u);
  for (const Json& o : objects) {
    EXPECT_EQ(o["metadata"]["labels"]["app.kubernetes.io/part-of"], "axon") << o.dump();
  }
  EXPECT_EQ(objects[0]["kind"], "Namespace");
  EXPECT_EQ(objects[1]["kind"], "CustomResourceDefinition");
  const Json role = OperatorRole(cluster);
  std::vector<std::string> pod_log_verbs;
  for (const Json& rule : role["rules"]) {
    for (const Json& r : rule["resources"]) {
      EXPECT_NE(r, "secrets") << "the operator reads no secrets";
      if (r == "pods/log") pod_log_verbs = rule["verbs"].get<std::vector<std::string>>();
    }
  }
  // `axon logs` reads the replica pods' logs, and does nothing else with them.
  EXPECT_EQ(pod_log_verbs, std::vector<std::string>{"get"});
  const Json op = OperatorDeployment(cluster);
  EXPECT_EQ(op["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"],
            "operator");
  EXPECT_EQ(op["spec"]["strategy"]["type"], "Recreate");
  // Its state outlives the pod: a claim the install applies before the Deployment.
  const Json state_volume = op["spec"]["template"]["spec"]["volumes"][0];
  EXPECT_EQ(state_volume["name"], "state");
  EXPECT_EQ(state_volume["persistentVolumeClaim"]["claimName"], "axon-operator-state");
  const auto claim = std::find_if(objects.begin(), objects.end(), [](const Json& o) {
    return o["kind"] == "PersistentVolumeClaim";
  });
  ASSERT_NE(claim, objects.end());
  EXPECT_LT(claim - objects.begin(), objects.size() - 2) << "before the Deployments";
  EXPECT_EQ((*claim)["spec"]["resources"]["requests"]["storage"], "10Gi");
  EXPECT_FALSE((*claim)["spec"].contains("storageClassName")) << "the cluster's default class";
  ClusterOptions fast = cluster;
  fast.state_storage_class = "ssd";
  EXPECT_EQ(OperatorStateClaim(fast)["spec"]["storageClassName"], "ssd");
  // Without a size the state is on an emptyDir and no claim is made.
  ClusterOptions ephemeral = cluster;
  ephemeral.state_size.clear();
  EXPECT_EQ(InstallObjects(ephemeral, "tok").size(), 12u);
  EXPECT_EQ(OperatorDeployment(ephemeral)["spec"]["template"]["spec"]["volumes"][0]["emptyDir"],
            Json::object());
  // In the cluster the operator runs in Kubernetes mode and feeds the gateway pods.
  const auto args =
      op["spec"]["template"]["spec"]["containers"][0]["args"].get<std::vector<std::string>>();
  const auto after = [&](const std::string& flag) {
    const auto it = std::find(args.begin(), args.end(), flag);
    return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
  };
  EXPECT_EQ(after("--backend"), "kubernetes");
  EXPECT_EQ(after("--gateway"), "pods");
  EXPECT_EQ(after("--namespace"), "$(POD_NAMESPACE)");
  EXPECT_EQ(after("--replica-image"), cluster.replica_image);
  EXPECT_EQ(after("--bundle-url"),
            "http://$(AXON_OPERATOR_SERVICE_HOST):$(AXON_OPERATOR_SERVICE_PORT)");
  // The kubelet sets a Service's variables only for Services that exist when the pod starts.
  std::vector<std::string> kinds;
  for (const Json& o : objects) kinds.push_back(o["kind"]);
  const auto first_deployment = std::find(kinds.begin(), kinds.end(), "Deployment");
  EXPECT_EQ(std::count(first_deployment, kinds.end(), "Service"), 0) << "Services first";
  const Json gw = GatewayDeployment(cluster);
  EXPECT_EQ(gw["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"], "gateway");
  const Json gw_args = gw["spec"]["template"]["spec"]["containers"][0]["args"];
  EXPECT_NE(std::find(gw_args.begin(), gw_args.end(), "0.0.0.0:9001"), gw_args.end())
      << "the admin listener the operator pushes route tables to: " << gw_args.dump();
  EXPECT_EQ(gw["spec"]["template"]["spec"]["automountServiceAccountToken"], false);
  const Json svc = GatewayService(cluster);
  EXPECT_EQ(svc["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 8888);
  EXPECT_EQ(svc["spec"]["ports"][1]["name"], "grpc");
  EXPECT_EQ(TokenSecret(cluster, "tok")["data"]["token"], "dG9r");
  const Json api = AxonApiObject(cluster, PythonApi(), 4, "abc");
  EXPECT_EQ(api["apiVersion"], "axon.dev/v1alpha1");
  EXPECT_EQ(api["spec"]["version"], 4);
  EXPECT_EQ(spec::ApiSpecFromJson(api["spec"]["api"]), PythonApi());
}

// ../shared/tools/k8s-validate beside the clone (or beside the folder of worktrees).
fs::path ValidatorPath() {
  for (const char* up : {"..", "../.."}) {
    const fs::path p = fs::path(AXON_SOURCE_DIR) / up / "shared" / "tools" / "k8s-validate";
    if (fs::exists(p)) return p.lexically_normal();
  }
  return fs::path(AXON_SOURCE_DIR) / ".." / "shared" / "tools" / "k8s-validate";
}

// Runs k8s-validate on `files`; returns its exit code and output.
int Validate(const std::vector<fs::path>& files, std::string* output) {
  std::string command = ValidatorPath().string();
  for (const auto& f : files) command += " '" + f.string() + "'";
  command += " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class K8sValidate : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path tool = ValidatorPath();
    ASSERT_TRUE(fs::exists(tool)) << tool << " is missing: it comes with the shared tools";
    dir_ = fs::temp_directory_path() / ("kube-manifests-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const Json& object, const std::string& name) {
    const fs::path file = dir_ / (name + ".json");
    std::ofstream(file) << object.dump(2);
    return file;
  }
  fs::path dir_;
};

TEST_F(K8sValidate, EveryGeneratedManifestIsValid) {
  std::vector<fs::path> files;
  ClusterOptions cluster;
  int i = 0;
  for (const Json& o : InstallObjects(cluster, "tok")) {
    files.push_back(Write(o, std::to_string(i++) + "-" + o["kind"].get<std::string>()));
  }
  cluster.service_type = "LoadBalancer";
  files.push_back(Write(GatewayService(cluster), "gateway-lb"));
  const OwnerRef owner{"axon.dev/v1alpha1", "AxonAPI", "iris", "u-1"};
  const spec::ApiSpec py = SpecForPod(PythonApi(), "/home/u/proj/iris");
  files.push_back(Write(VersionConfigMap(cluster, py, 1, owner), "iris-cm"));
  files.push_back(Write(BundleConfigMap(cluster, "iris", 1, {{"predictor.py", "x = 1\n"}}, owner),
                        "iris-bundle"));
  files.push_back(
      Write(ApiDeployment(cluster, py, 1,
                          {.replicas = 3, .bundle = {"api-iris-v1-bundle"}, .owner = owner}),
            "iris-deployment"));
  spec::ApiSpec spot = NativeApi();
  spot.node_groups = {"spot"};
  files.push_back(Write(ApiDeployment(cluster, spot, 7, {}), "mlp-deployment"));
  files.push_back(Write(ApiDeployment(cluster, UserServerApi(), 1, {}), "own-deployment"));
  std::string output;
  EXPECT_EQ(Validate(files, &output), 0) << output;
  EXPECT_NE(output.find("0 problem(s)"), std::string::npos) << output;
}

TEST_F(K8sValidate, TheValidatorCatchesAMistake) {
  Json d = ApiDeployment({}, PythonApi(), 1, {});
  d["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = Json::object();  // typo
  d["spec"]["replicas"] = "two";
  std::string output;
  EXPECT_EQ(Validate({Write(d, "broken")}, &output), 1) << output;
  EXPECT_NE(output.find("readinesProbe: unknown field"), std::string::npos) << output;
  EXPECT_NE(output.find("replicas: expected int"), std::string::npos) << output;
}

}  // namespace
}  // namespace axon::kube
