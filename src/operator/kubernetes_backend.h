// ApiBackend for cluster mode: each API is a Deployment in the cluster (kube/manifests.h), and
// the cluster's controllers do the work LocalBackend does by hand. Per API:
//   - Apply() of a new version (or revision) applies, off the reconcile thread, the API's
//     AxonAPI object (its desired state, owner of the rest), the version's spec ConfigMap and
//     the Deployment (RollingUpdate with update_strategy's max_surge / max_unavailable; the
//     pods fetch the version's bundle from the operator, contract/bundles.h);
//   - a new replica count alone writes the Deployment's scale subresource;
//   - `axon refresh` (a new revision of the same version) sets the pod template's
//     restarted-at annotation, so the Deployment replaces every pod;
//   - Remove() deletes everything labelled with the API (the AxonAPI's owner references
//     collect the rest);
//   - Observe() reads the API's pods from an Informer (list + watch): readiness, restarts,
//     waiting and terminated reasons and termination messages (pod_status.h).
// Restarts, crash-loop backoff and draining (preStop, grace period) are the kubelet's.
//
// Many APIs at once: calls to the API server run on a pool of `workers` threads, at most one
// call chain per API at a time (so an API's changes stay in order), so one slow call holds up
// only its own API. A failed call is retried on a later Reconcile() after a backoff, and its
// error is the API's error until a call succeeds.
//
// Threading: see ApiBackend. Apply(), Remove() and Observe() do no I/O. Reconcile() only
// queues work. One mutex guards the per-API state; the Informer's handler takes it briefly.
// The Client must outlive the backend; the destructor waits for calls in flight.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/manifests.h"
#include "operator/api_backend.h"

namespace axon::operator_ {

struct KubernetesBackendOptions {
  kube::ClusterOptions cluster;
  // The operator's management API as pods reach it ("http://HOST:PORT"), where replicas fetch
  // bundles; and the platform token the bundle keys derive from.
  std::string bundle_url;
  std::string token;
  std::filesystem::path bundles_root;  // BundleStore's root: the specs' paths lie below it
  int workers = 4;
  int crash_loop_threshold = 3;
  std::chrono::milliseconds retry_base{1000};  // after a failed call, doubling
  std::chrono::milliseconds retry_max{30'000};
};

class KubernetesBackend final : public ApiBackend {
 public:
  KubernetesBackend(KubernetesBackendOptions options, kube::Client& client, const Clock& clock);
  ~KubernetesBackend() override;

  // Makes sure the AxonAPI CRD, the namespace and the replicas' service account exist (blocking),
  // then starts watching the replica pods and blocks until they are listed, however long the
  // API server takes to answer. Call once, before the first Reconcile().
  void Start();
  // The replica counts of the APIs' Deployments as they are in the cluster (an earlier
  // operator's autoscaler decisions), for Controller::KeepAdoptedScale. Blocking.
  std::map<std::string, int64_t> AdoptRunning();

  void Apply(const ApiTarget& target) override;
  void Remove(const std::string& api) override;
  ApiObservation Observe(const std::string& api) const override;
  // False: pods take seconds to start, and their readiness arrives by the watch.
  bool Starting() const override { return false; }
  void Reconcile() override;
  void RoutesPublished(bool) override {}
  // The APIs keep running in the cluster when the operator stops; waits for calls in flight.
  void StopAll() override;

 private:
  struct Applied {  // what the cluster was last told
    int64_t version = 0;
    int64_t revision = 0;
    int64_t replicas = -1;
  };
  struct Api {
    ApiTarget target;
    Applied applied;
    std::string restarted_at;  // the pod template's annotation, once refreshed
    std::string error;         // of the last failed call; "" after a success
    int failures = 0;
    TimePoint retry_at{};
  };

  void OnPod(kube::ChangeType type, const nlohmann::json& pod);
  // One API's chain of calls, on a worker thread.
  void Run(const std::string& name, ApiTarget target, Applied applied, bool refresh);
  Status ApplyVersion(const ApiTarget& target, int64_t replicas);
  Status Refresh(const std::string& name, const std::string& restarted_at);
  void RunRemove(const std::string& name);
  void Done(const std::string& name, const Status& status, const Applied& applied,
            const std::string& restarted_at);

  const KubernetesBackendOptions options_;
  kube::Client& client_;
  const Clock& clock_;
  std::unique_ptr<kube::Informer> pods_informer_;

  mutable std::mutex mu_;
  std::map<std::string, Api> apis_;                                    // guarded by mu_
  std::set<std::string> busy_;                                         // guarded by mu_
  std::set<std::string> removing_;                                     // guarded by mu_
  std::map<std::string, std::map<std::string, nlohmann::json>> pods_;  // guarded by mu_

  boost::asio::thread_pool workers_;  // last: joined first
};

}  // namespace axon::operator_
