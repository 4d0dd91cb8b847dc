#include "operator/kubernetes_backend.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "common/sha256.h"
#include "contract/bundles.h"
#include "kube/apply.h"
#include "kube/install_manifests.h"
#include "kube/resource.h"
#include "operator/pod_status.h"

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;

kube::ResourceKind Kind(const char* api_version, const char* kind) {
  return *kube::FindKind(api_version, kind);
}

std::string DeploymentPath(const std::string& ns, const std::string& api) {
  return kube::ObjectPath(Kind("apps/v1", "Deployment"), ns, kube::ApiObjectName(api));
}

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

KubernetesBackend::KubernetesBackend(KubernetesBackendOptions options, kube::Client& client,
                                     const Clock& clock)
    : options_(std::move(options)),
      client_(client),
      clock_(clock),
      workers_(static_cast<size_t>(std::max(1, options_.workers))) {}

KubernetesBackend::~KubernetesBackend() {
  if (pods_informer_) pods_informer_->Stop();
  workers_.join();
}

void KubernetesBackend::Start() {
  // The AxonAPI kind and what replica pods need in the namespace; an install made them already (and
  // an operator in the cluster may not create them), so failing here is only a warning.
  if (Status s = kube::ApplyAll(client_, {kube::Namespace(options_.cluster), kube::AxonApiCrd(),
                                          kube::ServiceAccount(options_.cluster, "axon-replica",
                                                               /*mount_token=*/false)});
      !s.ok()) {
    spdlog::warn("namespace {} not checked: {}", options_.cluster.ns, s.message());
  }
  pods_informer_ = std::make_unique<kube::Informer>(
      &client_,
      kube::InformerOptions{
          .collection_path = kube::CollectionPath(Kind("v1", "Pod"), options_.cluster.ns),
          .label_selector = kube::ReplicaSelector()},
      [this](kube::ChangeType type, const Json& pod) { OnPod(type, pod); });
  pods_informer_->Start();
  // Until the first list, every API would look as if it had no replicas: a restarted operator
  // would publish empty route tables to the gateways that still serve them. So nothing goes on
  // before it (the operator is not Ready meanwhile).
  while (!pods_informer_->WaitForSync(std::chrono::seconds(30))) {
    spdlog::warn(
        "the replica pods of namespace {} are not listed yet (the API server does not "
        "answer); waiting for the list before anything is routed",
        options_.cluster.ns);
  }
}

void KubernetesBackend::OnPod(kube::ChangeType type, const Json& pod) {
  const Json meta = pod.value("metadata", Json::object());
  const std::string api = meta.value("labels", Json::object()).value(kube::kApiLabel, "");
  const std::string name = meta.value("name", "");
  if (api.empty() || name.empty()) return;
  std::lock_guard lock(mu_);
  if (type == kube::ChangeType::kDeleted) {
    auto it = pods_.find(api);
    if (it == pods_.end()) return;
    it->second.erase(name);
    if (it->second.empty()) pods_.erase(it);
  } else {
    pods_[api][name] = pod;
  }
}

std::map<std::string, int64_t> KubernetesBackend::AdoptRunning() {
  std::map<std::string, int64_t> out;
  auto list = client_.List(kube::CollectionPath(Kind("apps/v1", "Deployment"), options_.cluster.ns),
                           {.label_selector = kube::ReplicaSelector()});
  if (!list.ok()) {
    spdlog::warn("cannot read the APIs' Deployments: {}", list.status().message());
    return out;
  }
  for (const Json& d : list->items) {
    const std::string api =
        d["metadata"].value("labels", Json::object()).value(kube::kApiLabel, "");
    if (!api.empty()) out[api] = d.value("spec", Json::object()).value("replicas", int64_t{0});
  }
  return out;
}

void KubernetesBackend::Apply(const ApiTarget& target) {
  std::lock_guard lock(mu_);
  Api& api = apis_[target.api];
  api.target = target;
}

void KubernetesBackend::Remove(const std::string& api) {
  std::lock_guard lock(mu_);
  apis_.erase(api);
  removing_.insert(api);
}

ApiObservation KubernetesBackend::Observe(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto api = apis_.find(name);
  if (api == apis_.end()) return {};
  std::vector<Json> pods;
  if (auto it = pods_.find(name); it != pods_.end()) {
    for (const auto& [pod_name, pod] : it->second) pods.push_back(pod);
  }
  ApiObservation observed =
      ObservePods(pods, {.version = api->second.target.version,
                         .restarted_at = api->second.restarted_at,
                         .crash_loop_threshold = options_.crash_loop_threshold});
  if (observed.error.empty() && !api->second.error.empty()) observed.error = api->second.error;
  return observed;
}

void KubernetesBackend::Reconcile() {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  for (auto it = removing_.begin(); it != removing_.end();) {
    if (busy_.contains(*it)) {
      ++it;
      continue;
    }
    busy_.insert(*it);
    boost::asio::post(workers_, [this, name = *it] { RunRemove(name); });
    it = removing_.erase(it);
  }
  for (auto& [name, api] : apis_) {
    if (busy_.contains(name) || removing_.contains(name) || now < api.retry_at) continue;
    const ApiTarget& t = api.target;
    const Applied& a = api.applied;
    const bool new_version = a.version != t.version;
    const bool refresh = !new_version && t.revision != a.revision;
    if (!new_version && !refresh && t.replicas == a.replicas) continue;
    busy_.insert(name);
    boost::asio::post(workers_, [this, name = name, t, a, refresh] { Run(name, t, a, refresh); });
  }
}

void KubernetesBackend::Run(const std::string& name, ApiTarget target, Applied applied,
                            bool refresh) {
  Status status = OkStatus();
  std::string restarted_at;
  Applied next = applied;
  if (applied.version != target.version) {
    status = ApplyVersion(target, target.replicas);
    next = {.version = target.version, .revision = target.revision, .replicas = target.replicas};
  } else if (refresh) {
    restarted_at = std::to_string(UnixMillis());
    status = Refresh(name, restarted_at);
    next.revision = target.revision;
  } else {
    status = client_.SetScale(DeploymentPath(options_.cluster.ns, name), target.replicas);
    next.replicas = target.replicas;
  }
  if (status.ok()) {
    spdlog::info("api {}: version {}, {} replicas{}", name, target.version, target.replicas,
                 refresh ? ", every pod replaced" : "");
  }
  Done(name, status, next, restarted_at);
}

Status KubernetesBackend::ApplyVersion(const ApiTarget& target, int64_t replicas) {
  const kube::ClusterOptions& cluster = options_.cluster;
  const spec::ApiSpec pod_spec =
      kube::SpecForPod(target.spec, options_.bundles_root / target.bundle);
  const std::string content_hash =
      Sha256Hex(spec::ToJson(target.spec).dump() + "\n" + target.bundle).substr(0, 32);
  const Json desired = kube::AxonApiObject(cluster, target.spec, target.version, content_hash);
  auto path = kube::PathOf(desired, cluster.ns);
  if (!path.ok()) return path.status();
  auto owner_object = client_.Apply(*path, desired);
  if (!owner_object.ok()) return owner_object.status();
  const kube::OwnerRef owner{.api_version = desired["apiVersion"],
                             .kind = "AxonAPI",
                             .name = target.api,
                             .uid = (*owner_object)["metadata"].value("uid", "")};
  const kube::BundleSource bundle{.fetch_url = options_.bundle_url,
                                  .hash = target.bundle,
                                  .key = contract::BundleKey(options_.token, target.bundle)};
  return kube::ApplyAll(
      client_, {kube::VersionConfigMap(cluster, pod_spec, target.version, owner),
                kube::ApiDeployment(cluster, pod_spec, target.version,
                                    {.replicas = replicas, .bundle = bundle, .owner = owner})});
}

Status KubernetesBackend::Refresh(const std::string& name, const std::string& restarted_at) {
  const Json patch = {
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{kRestartedAtAnnotation, restarted_at}}}}}}}}}};
  auto patched = client_.Patch(DeploymentPath(options_.cluster.ns, name) +
                                   kube::QueryString({{"fieldManager", "axon-refresh"}}),
                               kube::PatchType::kStrategicMerge, patch);
  return patched.status();
}

void KubernetesBackend::RunRemove(const std::string& name) {
  auto deleted =
      kube::DeleteLabeled(client_, options_.cluster.ns,
                          kube::LabelSelector({{kube::kApiLabel, name}}), kube::AxonKinds());
  if (deleted.ok()) {
    spdlog::info("api {}: {} objects deleted", name, *deleted);
    std::lock_guard lock(mu_);
    busy_.erase(name);
    return;
  }
  spdlog::warn("api {}: delete failed, retrying: {}", name, deleted.status().message());
  std::lock_guard lock(mu_);
  busy_.erase(name);
  removing_.insert(name);
}

void KubernetesBackend::Done(const std::string& name, const Status& status, const Applied& applied,
                             const std::string& restarted_at) {
  std::lock_guard lock(mu_);
  busy_.erase(name);
  auto it = apis_.find(name);
  if (it == apis_.end()) return;  // removed meanwhile
  Api& api = it->second;
  if (status.ok()) {
    api.applied = applied;
    if (!restarted_at.empty()) api.restarted_at = restarted_at;
    api.error.clear();
    api.failures = 0;
    return;
  }
  api.error = "the cluster refused api " + name + ": " + status.message();
  spdlog::warn("{}", api.error);
  api.failures++;
  auto delay = options_.retry_base * (1 << std::min(api.failures - 1, 10));
  api.retry_at = clock_.Now() + std::min<std::chrono::milliseconds>(delay, options_.retry_max);
}

void KubernetesBackend::StopAll() {
  if (pods_informer_) pods_informer_->Stop();
}

}  // namespace axon::operator_
