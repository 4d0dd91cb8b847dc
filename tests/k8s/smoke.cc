// axon-k8s-smoke: drives a real Kubernetes cluster with Axon's client and manifests only (no
// kubectl): installs Axon's objects, runs an API's Deployment from the axon-replica image (a
// Python predictor using numpy, shipped in a ConfigMap for now), waits for its pod to become
// Ready while watching pods, predicts on the pod, scales it through the scale subresource and
// watches the pods follow, rolls it over to a second version (RollingUpdate), then deletes
// everything by label and checks that nothing is left. Run by scripts/test-k8s (make test-k8s)
// against ../shared/tools/k8s-cluster.
//
//   axon-k8s-smoke --kubeconfig FILE [--image-tag TAG] [--namespace NS]
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "http/client.h"
#include "kube/apply.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/install_manifests.h"
#include "kube/manifests.h"

namespace {

using namespace axon;
using namespace axon::kube;
using namespace std::chrono_literals;

constexpr char kPredictor[] = R"(import numpy


class PythonPredictor:
    def __init__(self, config):
        self.scale = float(config.get("scale", 1))

    def predict(self, payload):
        values = numpy.asarray(payload["values"], dtype=float)
        return {"sum": float(values.sum() * self.scale), "numpy": numpy.__version__}
)";

constexpr char kBrokenPredictor[] = R"(class PythonPredictor:
    def __init__(self, config):
        raise ValueError("the model file is corrupt")

    def predict(self, payload):
        return None
)";

[[noreturn]] void Fail(const std::string& what) {
  spdlog::error("FAILED: {}", what);
  std::exit(1);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Fail(what + ": " + s.message());
}

template <typename T>
T Must(StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Fail(what + ": " + v.status().message());
  return std::move(v).value();
}

bool PodReady(const Json& pod) {
  if (pod.value("metadata", Json::object()).contains("deletionTimestamp")) return false;
  for (const Json& c : pod.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// Ready pods in the informer's cache, and all of them.
std::pair<int, int> Count(const Informer& pods) {
  int ready = 0, all = 0;
  for (const auto& [key, pod] : pods.Cache()) {
    ++all;
    ready += PodReady(pod) ? 1 : 0;
  }
  return {ready, all};
}

bool WaitFor(const std::string& what, std::chrono::seconds limit, const std::function<bool()>& f) {
  const auto start = std::chrono::steady_clock::now();
  while (!f()) {
    if (std::chrono::steady_clock::now() - start > limit) return false;
    std::this_thread::sleep_for(200ms);
  }
  spdlog::info("{} ({} ms)", what,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  return true;
}

spec::ApiSpec EchoSpec() {
  spec::ApiSpec s;
  s.name = "echo";
  s.predictor.type = "python";
  s.predictor.path = std::string(kBundleDir) + "/predictor.py";
  s.predictor.config = {{"scale", 2}};
  s.compute.cpu_millis = 100;
  s.compute.mem_bytes = 256ll << 20;
  s.update_strategy.max_surge = {1, false};
  s.update_strategy.max_unavailable = {0, false};
  s.networking.endpoint = "/echo";
  return s;
}

void WaitForCrd(Client& client) {
  const std::string path =
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/axonapis.axon.dev";
  if (!WaitFor("CRD axonapis.axon.dev established", 60s, [&] {
        auto crd = client.Get(path);
        if (!crd.ok()) return false;
        for (const Json& c :
             crd->value("status", Json::object()).value("conditions", Json::array())) {
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
        }
        return false;
      })) {
    Fail("the CRD was not established in 60 s");
  }
}

void Predict(const Json& pod, double expected_sum) {
  const std::string ip = pod["status"].value("podIP", "");
  auto response = http::Fetch(
      ip, kReplicaPort,
      http::MakeRequest(http::bhttp::verb::post, "/predict", "", R"({"values": [1, 2, 3.5]})"),
      5000ms);
  if (!response.ok()) Fail("predict on " + ip + ": " + response.status().message());
  spdlog::info("POST http://{}:{}/predict -> {} {}", ip, kReplicaPort, response->result_int(),
               response->body());
  const Json answer = Json::parse(response->body(), nullptr, false);
  if (response->result_int() != 200 || !answer.is_object() ||
      answer.value("sum", 0.0) != expected_sum) {
    Fail("unexpected prediction");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-k8s-smoke: Axon's client and manifests against a real cluster"};
  std::string kubeconfig;
  std::string tag = "latest";
  ClusterOptions cluster;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file")->required();
  app.add_option("--image-tag", tag, "tag of axon-replica and axon-control")->capture_default_str();
  app.add_option("--namespace", cluster.ns, "namespace")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cluster.replica_image = "axon-replica:" + tag;
  cluster.control_image = "axon-control:" + tag;
  cluster.image_pull_policy = "Never";
  cluster.pre_stop_seconds = 1;
  // The test cluster has no storage provisioner: the operator's state on an emptyDir here
  // (install-e2e.sh makes a PersistentVolume for the claim and tests that form).
  cluster.state_size.clear();
  cluster.drain_ms = 2000;

  auto client = Must(Client::New(Must(LoadKubeconfig(kubeconfig), "kubeconfig")), "client");
  const Json version = Must(client->Get("/version"), "GET /version");
  spdlog::info("API server {} at {}", version.value("gitVersion", "?"), kubeconfig);

  // Install: namespace, CRD, RBAC, token, operator and gateway.
  Check(ApplyAll(*client, InstallObjects(cluster, "smoke-token")), "install");
  spdlog::info("applied {} install objects", InstallObjects(cluster, "smoke-token").size());
  WaitForCrd(*client);

  // Desired state of the API, and its version 1 owned by it.
  const spec::ApiSpec spec = EchoSpec();
  const Json api = Must(client->Apply(*PathOf(AxonApiObject(cluster, spec, 1, "smoke"), cluster.ns),
                                      AxonApiObject(cluster, spec, 1, "smoke")),
                        "apply AxonAPI");
  const OwnerRef owner{"axon.dev/v1alpha1", "AxonAPI", "echo",
                       api["metadata"]["uid"].get<std::string>()};
  const std::string deployment_path =
      ObjectPath(*FindKind("apps/v1", "Deployment"), cluster.ns, ApiObjectName("echo"));
  const std::string bundle = VersionObjectName("echo", 1) + "-bundle";
  Check(ApplyAll(
            *client,
            {VersionConfigMap(cluster, spec, 1, owner),
             BundleConfigMap(cluster, "echo", 1, {{"predictor.py", kPredictor}}, owner),
             ApiDeployment(cluster, spec, 1, {.replicas = 1, .bundle = {bundle}, .owner = owner})}),
        "apply version 1");
  spdlog::info("applied AxonAPI echo, its ConfigMaps and Deployment {}", ApiObjectName("echo"));

  // Watch the API's pods.
  std::set<std::string> seen;
  std::mutex seen_mu;
  Informer pods(client.get(),
                {.collection_path = CollectionPath(*FindKind("v1", "Pod"), cluster.ns),
                 .label_selector = std::string(kApiLabel) + "=echo",
                 .watch_timeout_seconds = 30},
                [&](ChangeType type, const Json& pod) {
                  const char* what = type == ChangeType::kAdded      ? "added"
                                     : type == ChangeType::kModified ? "modified"
                                                                     : "deleted";
                  std::lock_guard<std::mutex> lock(seen_mu);
                  seen.insert(pod["metadata"]["name"].get<std::string>());
                  spdlog::info("watch: pod {} {} (phase {}, ready {})",
                               pod["metadata"]["name"].get<std::string>(), what,
                               pod.value("status", Json::object()).value("phase", "?"),
                               PodReady(pod));
                });
  pods.Start();
  if (!WaitFor("1 replica pod Ready", 180s, [&] { return Count(pods).first == 1; })) {
    Fail("the replica pod did not become Ready in 180 s");
  }
  for (const auto& [key, pod] : pods.Cache()) Predict(pod, 13.0);

  // Scale through the scale subresource; the watch sees the pods come and go.
  Check(client->SetScale(deployment_path, 3), "scale to 3");
  spdlog::info("scale -> 3: {}", Must(client->GetScale(deployment_path), "scale").desired);
  if (!WaitFor("3 replica pods Ready", 180s, [&] { return Count(pods).first == 3; })) {
    Fail("3 pods did not become Ready in 180 s");
  }
  for (const auto& [key, pod] : pods.Cache()) Predict(pod, 13.0);

  // Version 2 (config scale 3): the Deployment's RollingUpdate replaces the pods one at a time
  // (max_surge 1, max_unavailable 0), keeping the 3 replicas the scale subresource set.
  spec::ApiSpec spec2 = spec;
  spec2.predictor.config = {{"scale", 3}};
  Check(ApplyAll(*client, {VersionConfigMap(cluster, spec2, 2, owner),
                           ApiDeployment(cluster, spec2, 2,
                                         {.replicas = 3, .bundle = {bundle}, .owner = owner})}),
        "apply version 2");
  spdlog::info("applied version 2");
  auto version_of = [](const Json& pod) {
    return pod["metadata"]["labels"].value(kVersionLabel, "");
  };
  if (!WaitFor("rolled over: 3 Ready pods, all of version 2", 240s, [&] {
        int v2 = 0;
        auto cache = pods.Cache();
        for (const auto& [key, pod] : cache) v2 += version_of(pod) == "2" && PodReady(pod) ? 1 : 0;
        return v2 == 3 && cache.size() == 3;
      })) {
    Fail("the rolling update to version 2 did not finish in 240 s");
  }
  for (const auto& [key, pod] : pods.Cache()) Predict(pod, 19.5);
  if (Must(client->GetScale(deployment_path), "scale").desired != 3)
    Fail("the update reset the scale");
  Check(client->SetScale(deployment_path, 1), "scale to 1");
  if (!WaitFor("back to 1 replica pod", 120s, [&] { return Count(pods).second == 1; })) {
    Fail("the pods were not scaled down to 1 in 120 s");
  }

  // A predictor that fails to load: the reason reaches the pod's status as its termination
  // message (where the operator will read it), and the kubelet restarts it with backoff.
  spec::ApiSpec broken = spec;
  broken.name = "broken";
  broken.networking.endpoint = "/broken";
  const std::string broken_bundle = VersionObjectName("broken", 1) + "-bundle";
  Check(ApplyAll(*client,
                 {VersionConfigMap(cluster, broken, 1),
                  BundleConfigMap(cluster, "broken", 1, {{"predictor.py", kBrokenPredictor}}),
                  ApiDeployment(cluster, broken, 1, {.replicas = 1, .bundle = {broken_bundle}})}),
        "apply broken");
  std::string reason;
  if (!WaitFor("the broken predictor's load error is in its pod status", 120s, [&] {
        auto list = client->List(CollectionPath(*FindKind("v1", "Pod"), cluster.ns),
                                 {.label_selector = std::string(kApiLabel) + "=broken"});
        if (!list.ok()) return false;
        for (const Json& pod : list->items) {
          for (const Json& c :
               pod.value("status", Json::object()).value("containerStatuses", Json::array())) {
            for (const char* state : {"state", "lastState"}) {
              const Json t = c.value(state, Json::object()).value("terminated", Json::object());
              const std::string message = t.value("message", "");
              if (message.find("the model file is corrupt") != std::string::npos) {
                reason = "exit code " + std::to_string(t.value("exitCode", 0)) + ": " + message;
                return true;
              }
            }
          }
        }
        return false;
      })) {
    Fail("no termination message for the broken predictor in 120 s");
  }
  spdlog::info("termination message: {}", reason);

  // The control plane's pods run from the axon-control image.
  const auto pod_kind = *FindKind("v1", "Pod");
  for (const char* component : {"gateway", "operator"}) {
    const std::string selector = std::string(kComponentLabel) + "=" + component;
    if (!WaitFor(std::string(component) + " pod Ready", 120s, [&] {
          auto list =
              client->List(CollectionPath(pod_kind, cluster.ns), {.label_selector = selector});
          return list.ok() && list->items.size() == 1 && PodReady(list->items[0]);
        })) {
      Fail(std::string(component) + " pod did not become Ready in 120 s");
    }
  }
  const auto stats = pods.stats();
  spdlog::info("informer: {} list(s), {} watch(es), {} failure(s); pods seen: {}", stats.lists,
               stats.watches, stats.failures, seen.size());

  // Delete everything Axon made, by label, then check that nothing is left.
  const std::string part_of = std::string(kPartOfLabel) + "=axon";
  const int deleted = Must(DeleteLabeled(*client, cluster.ns, part_of, AxonKinds()), "delete");
  spdlog::info("deleted {} objects labelled {}", deleted, part_of);
  if (!WaitFor("namespace " + cluster.ns + " gone", 180s, [&] {
        auto ns = client->Get("/api/v1/namespaces/" + cluster.ns);
        return !ns.ok() && ns.status().code() == StatusCode::kNotFound;
      })) {
    Fail("the namespace was not deleted in 180 s");
  }
  if (!WaitFor("no pod left", 60s, [&] { return Count(pods).second == 0; })) Fail("pods left");
  pods.Stop();
  for (const ResourceKind& kind : AxonKinds()) {
    auto left = client->List(CollectionPath(kind, ""), {.label_selector = part_of});
    if (left.ok() && !left->items.empty()) Fail(kind.kind + " objects left behind");
  }
  spdlog::info("PASSED: nothing labelled {} is left", part_of);
  return 0;
}
