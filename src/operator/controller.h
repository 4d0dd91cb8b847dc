// The control plane's heart: the desired state (APIs and their versions, from the state store)
// and the loop that makes what runs match it through an ApiBackend. Tick() is safe to run at
// any time and as often as wanted: it applies each API's target (version, revision, replica
// count from the autoscaler) to the backend, lets the backend reconcile, and pushes the
// resulting route table to the gateway.
//
// Deploys: a spec file is parsed and validated as a whole; each API's predictor folder becomes
// a content-addressed bundle (BundleStore); the new versions are saved in one transaction and
// then activated. Bundles that no kept version uses are collected after each deploy and
// delete.
//
// Threading: every public method may be called from any thread. Two mutexes:
//   - deploy_mu_ serializes what changes the set of APIs (deploy, rollback, delete, keys) and
//     is held across their disk I/O (hashing and copying folders, SQLite writes);
//   - mu_ guards the in-memory state and is never held across disk or network I/O, so that
//     `axon get`, describe and the reconcile loop are not held up by a deploy of a big model.
// Lock order: deploy_mu_, then mu_, then the backend's own lock or history_'s.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/axon_home.h"
#include "common/clock.h"
#include "common/status.h"
#include "contract/routes.h"
#include "contract/stats.h"
#include "operator/api_backend.h"
#include "operator/api_history.h"
#include "operator/api_logs.h"
#include "operator/api_runtime.h"
#include "operator/bundles.h"
#include "operator/gateways.h"
#include "operator/state_store.h"
#include "store/work_queue.h"

namespace axon::operator_ {

// Reads an API's log (ReadApiLog's answer) for Controller::Logs(), once the API and any job id
// are checked; called from any thread, without the controller's locks.
using LogReader =
    std::function<StatusOr<nlohmann::json>(const std::string& api, const LogQuery& query)>;

struct ControllerOptions {
  AxonHome home;
  std::chrono::milliseconds request_timeout{60'000};     // unless networking.timeout says
  std::chrono::milliseconds autoscale_interval{10'000};  // how often the autoscaler decides
  // Scale to zero: how long, and how many, requests the gateway holds for an API at zero.
  std::chrono::milliseconds hold_timeout{60'000};
  int64_t max_held = 1000;
  std::chrono::milliseconds history_interval{5'000};  // the dashboard's sampling (api_history.h)
  // AsyncAPIs: the queue of their requests (may be null: no AsyncAPI can take requests), and
  // the operator's async listener ("@axon-async-..."), the gateway's upstream for them.
  store::WorkQueue* work_queue = nullptr;
  std::string async_listener;
  LogReader read_logs;  // null: the log files under `home` (api_logs.h)
};

// A queue the dispatcher feeds to replicas: an AsyncAPI's (controller_async.cc), or a running
// job's (job_runner.h).
struct AsyncApiView {
  std::string name;  // the API
  int64_t version = 0;
  spec::QueueSpec queue;
  std::chrono::milliseconds timeout{60'000};  // one run of a request on a replica
  int64_t per_replica = 1;                    // requests one replica runs at once
  std::vector<ReplicaStatus> ready;           // ready replicas of any revision
  std::string queue_name;                     // in the work queue: the API's name, or the job's
  std::string job_id;                         // a job's: its id
  // A job's batch: an error answer is given back to be run again (up to queue.max_attempts),
  // not failed at once.
  bool retry_errors = false;
};

class Controller {
 public:
  Controller(ControllerOptions options, StateStore& store, ApiBackend& backend, Gateways& gateway,
             BundleStore& bundles, const Clock& clock);

  // Loads the APIs saved by an earlier operator and applies them to the backend. Call once
  // before the first Tick(); an unreadable store is an error.
  Status LoadFromStore();
  // After the backend adopted replicas an earlier operator left running: each API keeps the
  // replica count it adopted (the autoscaler may have added some), within its bounds.
  void KeepAdoptedScale(const std::map<std::string, int64_t>& adopted);

  // Validates the YAML of `file` as a whole and applies it. On success, one entry per API:
  // {"api", "action": created|updated|unchanged, "version", "endpoint"}.
  StatusOr<nlohmann::json> Deploy(const std::string& file, const std::string& yaml);
  // Deploys the content (spec and bundle) of an earlier version again, as a new version;
  // `version` 0 means the one before the current.
  StatusOr<nlohmann::json> Rollback(const std::string& name, int64_t version);
  Status Delete(const std::string& name);
  // Replaces every replica of the API with a fresh one (new before old stop).
  Status Refresh(const std::string& name);

  // API keys: a new key (shown once: {"id", "key"}), the keys' ids and dates, revoking one.
  StatusOr<nlohmann::json> CreateKey(const std::string& name);
  StatusOr<nlohmann::json> ListKeys(const std::string& name) const;
  Status RevokeKey(const std::string& name, const std::string& id);

  nlohmann::json List() const;
  StatusOr<nlohmann::json> Describe(const std::string& name) const;
  // The platform's Prometheus metrics: the operator's, the gateway's and every replica's
  // (controller_metrics.cc). Fetches them over HTTP without holding mu_.
  std::string Metrics() const;
  // The API's log lines (operator/api_logs.h; ControllerOptions::read_logs).
  StatusOr<nlohmann::json> Logs(const std::string& name, const LogQuery& query) const;
  // The API's kept versions, newest first: [{"version", "updated_at", "bundle", "current"}].
  StatusOr<nlohmann::json> Versions(const std::string& name) const;
  // The API's recent history for the dashboard (ApiHistory::Json).
  StatusOr<nlohmann::json> History(const std::string& name) const;

  // The AsyncAPI `name`, or nullopt when no AsyncAPI has that name.
  std::optional<AsyncApiView> AsyncApi(const std::string& name) const;
  // Every AsyncAPI.
  std::vector<AsyncApiView> AsyncApis() const;
  // What a job of the BatchAPI or TaskAPI `name` runs: its current version's target (spec,
  // bundle, spec file); nullopt when no such API has that name.
  std::optional<ApiTarget> JobApi(const std::string& name) const;

  // One reconcile pass.
  void Tick();
  // True while a replica has started and is not ready yet (ApiBackend::Starting): the next
  // pass should come soon, to route it as soon as it is ready.
  bool ReplicasStarting() const { return backend_.Starting(); }

 private:
  // Feeds the gateway's in-flight samples to each API's autoscaler and, once per
  // autoscale_interval, applies its decisions.
  void Autoscale(const contract::GatewayStats& stats);
  // An AsyncAPI's demand is its queue: replaces its in-flight count and samples with the
  // requests waiting and running, and its queued count with those waiting
  // (controller_async.cc). Reads the work queue; mu_ not held.
  void AddQueueDemand(contract::GatewayStats& stats) const;
  // The route of an AsyncAPI: its one upstream is the async listener. mu_ held.
  void SetAsyncRouteLocked(const ApiRuntime& api, contract::ApiRoute* route) const;
  AsyncApiView AsyncViewLocked(const std::string& name, const ApiRuntime& api) const;
  // Once per history_interval: a sampling pass of every API into history_, with the CPU and
  // memory of local replicas from /proc (read without mu_). controller_history.cc.
  void SampleHistory(const contract::GatewayStats& stats);
  contract::RouteTable RoutesLocked() const;
  // Hands every API that runs replicas (not a TrafficSplitter) to the backend. mu_ held.
  void ApplyTargetsLocked();
  // {status, reason (one line)} of any kind of API. mu_ held.
  std::pair<std::string, std::string> StatusLocked(const ApiRuntime& api,
                                                   const ApiObservation& observed) const;
  nlohmann::json SummaryLocked(const ApiRuntime& api, const ApiObservation& observed,
                               const contract::GatewayStats& stats) const;
  // The stored form of `api`: its folder as a bundle, its paths rebased into the bundle. Disk
  // I/O: deploy_mu_ held, mu_ not.
  StatusOr<StoredApi> MakeStored(const spec::ApiSpec& api);
  Status CheckEndpointsFree(const std::vector<spec::ApiSpec>& apis, const std::string& file) const;
  // Saves `stored` as new versions (unless unchanged) and activates them. deploy_mu_ held.
  StatusOr<nlohmann::json> Apply(std::vector<StoredApi>& stored);
  // Writes the version's spec file (for replicas), then makes it the API's current one.
  Status Activate(const StoredApi& stored);
  void CollectGarbage();                        // deploy_mu_ held
  Status RefreshKeys(const std::string& name);  // deploy_mu_ held

  const ControllerOptions options_;
  StateStore& store_;
  ApiBackend& backend_;
  Gateways& gateway_;
  BundleStore& bundles_;
  const Clock& clock_;

  std::mutex deploy_mu_;
  mutable std::mutex mu_;
  std::map<std::string, ApiRuntime> apis_;  // guarded by mu_
  TimePoint next_autoscale_{};              // reconcile thread only
  TimePoint next_history_{};                // reconcile thread only
  ApiHistory history_;                      // its own lock
  int64_t samples_seen_unix_ms_ = 0;        // reconcile thread only
};

}  // namespace axon::operator_
