// The control plane's heart: the desired state (APIs from the state store) and a reconciler
// that makes the running replicas match it. Tick() is safe to run at any time and as often as
// wanted: it reaps exited replicas, restarts crashed ones with exponential backoff, probes
// starting ones for readiness, replaces outdated ones once their successors are ready, and
// pushes the resulting route table to the gateway. Every autoscale_interval it also applies
// each API's autoscaler (see autoscaler.h) to the in-flight samples taken by the gateway.
//
// Threading: every public method may be called from any thread; one mutex guards the state.
// Tick() does its readiness probes and gateway calls without holding it.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/axon_home.h"
#include "common/clock.h"
#include "common/status.h"
#include "operator/api_runtime.h"
#include "operator/gateway_link.h"
#include "operator/replica_backend.h"
#include "operator/state_store.h"

namespace axon::operator_ {

struct ControllerOptions {
  AxonHome home;
  std::chrono::milliseconds drain{30'000};      // how long a stopping replica may drain
  std::chrono::milliseconds backoff_base{500};  // first restart delay after a crash
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds stable_after{10'000};  // ready this long = crash count forgotten
  int crash_loop_threshold = 3;                    // failures in a row that mean "error"
  std::chrono::milliseconds request_timeout{60'000};
  std::chrono::milliseconds autoscale_interval{10'000};  // how often the autoscaler decides
  // Scale to zero: how long, and how many, requests the gateway holds for an API at zero.
  std::chrono::milliseconds hold_timeout{60'000};
  int64_t max_held = 1000;
};

class Controller {
 public:
  Controller(ControllerOptions options, StateStore& store, ReplicaBackend& backend,
             GatewayLink& gateway, const Clock& clock);

  // Loads the APIs saved by an earlier operator and adopts its replicas that still run (an
  // operator that was killed leaves them serving). Call once before the first Tick().
  void LoadFromStore();

  // Validates the YAML of `file` as a whole and applies it. On success, one entry per API:
  // {"api", "action": created|updated|unchanged, "version", "endpoint"}.
  StatusOr<nlohmann::json> Deploy(const std::string& file, const std::string& yaml);
  // Deploys the content (spec and predictor snapshot) of an earlier version again, as a new
  // version; `version` 0 means the one before the current.
  StatusOr<nlohmann::json> Rollback(const std::string& name, int64_t version);
  Status Delete(const std::string& name);
  // Replaces every replica of the API with a fresh one (new before old stop).
  Status Refresh(const std::string& name);

  nlohmann::json List() const;
  StatusOr<nlohmann::json> Describe(const std::string& name) const;
  // The API's log text from byte `offset` (or its last `tail` lines when offset < 0).
  StatusOr<nlohmann::json> Logs(const std::string& name, int64_t offset, int tail) const;

  // One reconcile pass.
  void Tick();
  // Drains and stops every replica (for `axon down`). Blocks up to the drain time.
  void StopAllReplicas();

 private:
  struct Probe {
    std::string api;
    std::string replica_id;
    uint16_t port;
    bool ready = false;
  };
  // Feeds the gateway's in-flight samples to each API's autoscaler and, once per
  // autoscale_interval, applies its decisions.
  void Autoscale();
  void ReapLocked(ApiRuntime& api, TimePoint now);
  std::vector<Probe> CollectProbesLocked();
  void ApplyProbesLocked(const std::vector<Probe>& probes, TimePoint now);
  void ScaleLocked(ApiRuntime& api, TimePoint now);
  void StartReplicaLocked(ApiRuntime& api, ReplicaSlot& slot, TimePoint now);
  void StopReplicaLocked(ReplicaSlot slot, TimePoint now);
  void FinishStoppingLocked(TimePoint now);
  nlohmann::json RoutesLocked() const;
  void AdoptLocked(const StoredReplica& stored, TimePoint now);
  // Saves the running replicas to the store when they changed.
  void SaveReplicasLocked();
  nlohmann::json DescribeLocked(const ApiRuntime& api, const nlohmann::json& stats) const;
  Status Activate(const StoredApi& stored);  // mu_ held
  // The stored form of `api`, its predictor folder copied to a snapshot named by content.
  StatusOr<StoredApi> Snapshot(const spec::ApiSpec& api) const;
  // Saves `stored` as new versions (unless unchanged) and activates them. mu_ held.
  StatusOr<nlohmann::json> ApplyLocked(std::vector<StoredApi>& stored);

  const ControllerOptions options_;
  StateStore& store_;
  ReplicaBackend& backend_;
  GatewayLink& gateway_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::map<std::string, ApiRuntime> apis_;     // guarded by mu_
  std::vector<ReplicaSlot> stopping_;          // guarded by mu_; draining, awaiting exit
  std::vector<StoredReplica> saved_replicas_;  // guarded by mu_; as last saved
  TimePoint next_autoscale_{};                 // reconcile thread only
  int64_t samples_seen_unix_ms_ = 0;           // reconcile thread only
};

}  // namespace axon::operator_
