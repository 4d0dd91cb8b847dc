// The seam between the control plane and whatever runs an API's replicas, one level above
// processes: the controller says "run N replicas of this version of this API" (Apply) and asks
// what runs (Observe); the backend starts, restarts, rolls and stops replicas to get there.
// Local mode: LocalBackend (child processes of the operator). A Kubernetes backend maps the
// same calls onto a Deployment per version and leaves restarts and rollouts to the cluster.
//
// Threading: Apply(), Remove(), Observe() and Starting() may be called from any thread and do
// no I/O (they record desired state or copy observed state under the backend's own lock);
// Reconcile(), RoutesPublished() and StopAll() run on the controller's reconcile thread only
// and may block on I/O (probes, process signals), never while holding the controller's lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spec/api_spec.h"

namespace axon::operator_ {

// What the controller wants for one API.
struct ApiTarget {
  std::string api;
  int64_t version = 0;   // the version to run
  int64_t revision = 0;  // a new revision (a new version, or `axon refresh`) replaces replicas
  spec::ApiSpec spec;    // of `version`; paths point into its bundle
  std::filesystem::path spec_file;  // the spec as JSON, as replicas read it
  std::string bundle;               // the bundle (BundleStore) the version runs
  int64_t replicas = 0;             // desired replicas of this revision
};

enum class ReplicaState {
  kStarting,        // started, predictor loading; not routed
  kReady,           // answering its readiness probe: routed
  kWaitingRestart,  // exited (crashed, failed to load, timed out); restarts after a backoff
  kStopping,        // no longer routed; draining, then exits
};

const char* ReplicaStateName(ReplicaState state);

// One replica as observed.
struct ReplicaStatus {
  std::string id;
  int64_t version = 0;
  bool current = false;  // of the target's revision (false: an older one, being replaced)
  ReplicaState state = ReplicaState::kStarting;
  int64_t pid = 0;   // local mode only; 0 elsewhere
  std::string host;  // where it serves (once it has an address)
  uint16_t port = 0;
  std::string socket;  // local mode: the Unix socket the gateway should prefer
  int restarts = 0;
  std::string last_failure;  // why it last stopped, with the last log lines
};

struct ApiObservation {
  std::vector<ReplicaStatus> replicas;  // including replicas of older revisions and stopping
  // Non-empty while the API is failing: a predictor of the current revision that cannot load,
  // or a crash loop. The first line is the reason; more lines may follow (log lines).
  std::string error;
  // The error comes from replicas that fail before they get ready (the predictor cannot load,
  // the process exits or times out while loading): none will be ready without a change.
  bool start_failing = false;

  int64_t ReadyCurrent() const;
  // Current-revision replicas in any state but stopping.
  int64_t Current() const;
  // Replicas of older revisions that are not stopping yet.
  int64_t Outdated() const;
};

class ApiBackend {
 public:
  virtual ~ApiBackend() = default;
  // Sets what should run for `target.api`; idempotent (call on every reconcile pass).
  virtual void Apply(const ApiTarget& target) = 0;
  // Stops (draining) and forgets every replica of `api`.
  virtual void Remove(const std::string& api) = 0;
  virtual ApiObservation Observe(const std::string& api) const = 0;
  // True while a replica this backend probes itself has started and is not ready yet: the
  // reconcile loop then runs faster, so that the replica is routed soon after it gets ready.
  virtual bool Starting() const = 0;
  // One pass towards the applied targets: reap, restart, probe, scale, roll.
  virtual void Reconcile() = 0;
  // The gateway has (routed = true) or could not be given (false) a route table built from
  // Observe() after the last Reconcile(): replicas that left the table may be stopped now.
  virtual void RoutesPublished(bool routed) = 0;
  // Drains and stops every replica (`axon down`). Blocks up to the drain time.
  virtual void StopAll() = 0;
};

}  // namespace axon::operator_
