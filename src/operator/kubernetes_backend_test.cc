// KubernetesBackend against FakeApiServer, a scripted fake of kube-apiserver (the real one runs
// in `make test-k8s`): what it applies for a version, the scale subresource for a new replica
// count, pods observed through the informer, a refused call as the API's error, and a slow
// call of one API that does not hold up another.
#include "operator/kubernetes_backend.h"

#include <gtest/gtest.h>

#include <atomic>

#include "kube/testing/fake_api_server.h"
#include "kube/testing/wait.h"

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;
using kube::testing::Exchange;
using kube::testing::FakeApiServer;
using kube::testing::WaitUntil;

constexpr char kDeployments[] = "/apis/apps/v1/namespaces/axon/deployments/";

ApiTarget Target(const std::string& api, int64_t version, int64_t replicas) {
  ApiTarget t;
  t.api = api;
  t.version = version;
  t.revision = version;
  t.replicas = replicas;
  t.bundle = std::string(32, 'b');
  t.spec.name = api;
  t.spec.networking.endpoint = "/" + api;
  t.spec.predictor.type = "python";
  t.spec.predictor.path = "/bundles/" + t.bundle + "/predictor.py";
  return t;
}

Json ReadyPod(const std::string& api, const std::string& name, int64_t version) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "axon"},
            {"resourceVersion", "5"},
            {"labels", {{"axon.dev/api", api}, {"axon.dev/version", std::to_string(version)}}}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", "10.244.0.9"},
            {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

class KubernetesBackendTest : public ::testing::Test {
 protected:
  // The script: pods are listed from `pods_`, watches stay open, deployments of `slow_api_`
  // wait for `release_`, deployments of "refused" get a 422, everything else is echoed back.
  void Start() {
    auto server = FakeApiServer::Start({}, [this](Exchange& ex) { Answer(ex); });
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    kube::Credentials c;
    c.server = *kube::ParseServerUrl(server_->url());
    client_ = std::move(kube::Client::New(c)).value();
    backend_ = std::make_unique<KubernetesBackend>(
        KubernetesBackendOptions{.bundle_url = "http://10.244.0.1:8889",
                                 .token = "t",
                                 .bundles_root = "/bundles",
                                 .retry_base = std::chrono::milliseconds(1)},
        *client_, clock_);
    backend_->Start();
  }
  void TearDown() override {
    release_ = true;
    done_ = true;
    backend_.reset();
    if (server_) server_->Stop();
  }
  void Answer(Exchange& ex) {
    const auto& r = ex.request();
    if (r.target.find("watch=1") != std::string::npos) {
      ex.StartChunked();
      WaitUntil([&] { return done_.load(); }, std::chrono::seconds(20));
      ex.End();
      return;
    }
    if (r.method == "GET" && r.target.starts_with("/api/v1/namespaces/axon/pods")) {
      std::lock_guard lock(mu_);
      ex.Reply(200,
               {{"kind", "PodList"}, {"metadata", {{"resourceVersion", "5"}}}, {"items", pods_}});
      return;
    }
    if (!slow_api_.empty() && r.target.starts_with(kDeployments + ("api-" + slow_api_))) {
      WaitUntil([&] { return release_.load(); }, std::chrono::seconds(20));
      slow_answered_++;
    }
    if (r.target.starts_with(std::string(kDeployments) + "api-refused")) {
      ex.ReplyStatus(422, "Invalid", "spec.template: bad");
      return;
    }
    Json body = Json::parse(r.body, nullptr, false);
    if (!body.is_object()) body = Json::object();
    body["metadata"]["uid"] = "uid-1";
    ex.Reply(200, body);
  }
  std::vector<std::string> Targets(const std::string& method) const {
    std::vector<std::string> out;
    for (const auto& r : server_->requests()) {
      if (r.method == method) out.push_back(r.target.substr(0, r.target.find('?')));
    }
    return out;
  }
  Json Sent(const std::string& target_prefix) const {
    for (const auto& r : server_->requests()) {
      if (r.method == "PATCH" && r.target.starts_with(target_prefix)) return Json::parse(r.body);
    }
    return nullptr;
  }
  bool SawPatch(const std::string& target_prefix) const { return !Sent(target_prefix).is_null(); }

  SteadyClock clock_;
  std::mutex mu_;
  std::vector<Json> pods_;  // guarded by mu_
  std::string slow_api_;
  std::atomic<bool> release_{false}, done_{false};
  std::atomic<int> slow_answered_{0};
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<KubernetesBackend> backend_;
};

TEST_F(KubernetesBackendTest, AVersionIsTheAxonApiItsSpecAndTheDeploymentThenScaleWrites) {
  Start();
  backend_->Apply(Target("echo", 1, 2));
  backend_->Reconcile();
  const std::string deployment = std::string(kDeployments) + "api-echo";
  ASSERT_TRUE(WaitUntil([&] { return SawPatch(deployment); }, std::chrono::seconds(10)));
  const auto patches = Targets("PATCH");
  const auto at = [&](const std::string& t) {
    return std::find(patches.begin(), patches.end(), t);
  };
  EXPECT_LT(at("/apis/axon.dev/v1alpha1/namespaces/axon/axonapis/echo"),
            at("/api/v1/namespaces/axon/configmaps/api-echo-v1"));
  EXPECT_LT(at("/api/v1/namespaces/axon/configmaps/api-echo-v1"), at(deployment));
  const Json d = Sent(deployment);
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  const std::string args = d["spec"]["template"]["spec"]["containers"][0]["args"].dump();
  EXPECT_NE(args.find("\"--bundle-hash\",\"" + std::string(32, 'b') + "\""), std::string::npos);
  EXPECT_NE(args.find("http://10.244.0.1:8889"), std::string::npos);
  // The spec the pods read has its paths in the pod's bundle folder.
  const Json cm = Sent("/api/v1/namespaces/axon/configmaps/api-echo-v1");
  EXPECT_NE(cm["data"]["spec.json"].get<std::string>().find("/var/lib/axon/bundle/predictor.py"),
            std::string::npos);

  // Only the count changes: the scale subresource, nothing else.
  ASSERT_TRUE(WaitUntil(
      [&] {
        backend_->Apply(Target("echo", 1, 3));
        backend_->Reconcile();
        return SawPatch(deployment + "/scale");
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(Sent(deployment + "/scale")["spec"]["replicas"], 3);
}

TEST_F(KubernetesBackendTest, PodsAreObservedThroughTheInformer) {
  {
    std::lock_guard lock(mu_);
    pods_ = {ReadyPod("echo", "api-echo-abc", 1), ReadyPod("other", "api-other-x", 1)};
  }
  Start();
  backend_->Apply(Target("echo", 1, 1));
  ASSERT_TRUE(WaitUntil([&] { return backend_->Observe("echo").replicas.size() == 1; },
                        std::chrono::seconds(10)));
  const ApiObservation o = backend_->Observe("echo");
  EXPECT_EQ(o.replicas[0].id, "api-echo-abc");
  EXPECT_EQ(o.replicas[0].state, ReplicaState::kReady);
  EXPECT_EQ(o.replicas[0].host, "10.244.0.9");
  EXPECT_EQ(o.ReadyCurrent(), 1);
  EXPECT_TRUE(backend_->Observe("unknown").replicas.empty());
}

TEST_F(KubernetesBackendTest, ARefusedCallIsTheApisErrorAndIsRetried) {
  Start();
  backend_->Apply(Target("refused", 1, 1));
  ASSERT_TRUE(WaitUntil(
      [&] {
        backend_->Reconcile();
        return backend_->Observe("refused").error.find("spec.template: bad") != std::string::npos;
      },
      std::chrono::seconds(10)));
  const auto count = [&] {
    const auto p = Targets("PATCH");
    return std::count(p.begin(), p.end(), std::string(kDeployments) + "api-refused");
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        backend_->Reconcile();
        return count() >= 2;
      },
      std::chrono::seconds(10)));
}

TEST_F(KubernetesBackendTest, ASlowCallHoldsUpOnlyItsOwnApi) {
  slow_api_ = "slow";
  Start();
  backend_->Apply(Target("slow", 1, 1));
  backend_->Apply(Target("fast", 1, 1));
  backend_->Reconcile();
  ASSERT_TRUE(WaitUntil([&] { return SawPatch(std::string(kDeployments) + "api-fast"); },
                        std::chrono::seconds(10)));
  EXPECT_EQ(slow_answered_.load(), 0);  // still held
  // Reconciling again does not queue a second call for the API whose call is in flight.
  backend_->Reconcile();
  release_ = true;
  ASSERT_TRUE(WaitUntil([&] { return slow_answered_.load() == 1; }, std::chrono::seconds(10)));
  const auto p = Targets("PATCH");
  EXPECT_EQ(std::count(p.begin(), p.end(), std::string(kDeployments) + "api-slow"), 1);
}

TEST_F(KubernetesBackendTest, RemoveDeletesEverythingLabelledWithTheApi) {
  Start();
  backend_->Apply(Target("echo", 1, 1));
  backend_->Remove("echo");
  backend_->Reconcile();
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& r : server_->requests()) {
          if (r.method == "GET" && r.target.find("axonapis") != std::string::npos &&
              r.target.find("axon.dev%2Fapi%3Decho") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(10)));
  EXPECT_TRUE(backend_->Observe("echo").replicas.empty());
}

}  // namespace
}  // namespace axon::operator_
