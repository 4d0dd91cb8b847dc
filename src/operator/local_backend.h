// ApiBackend for local mode: each replica is a child process of the operator (through
// ReplicaProcesses). Per API it keeps replica slots (like pods, a slot keeps its id across
// restarts) and moves them towards the applied target:
//   - reaps exited replicas and restarts those of the current revision after an exponential
//     backoff (a crash count is forgotten once a replica has been ready for stable_after);
//   - probes starting replicas for readiness, and replaces one that is not ready within
//     ready_timeout (killed, restarted with backoff, the reason shown);
//   - rolls a new revision out under update_strategy (max_surge, max_unavailable);
//   - stops replicas that leave only once the gateway no longer routes to them
//     (RoutesPublished), SIGKILLing those that do not drain in time;
//   - keeps a standby replica (replica_processes.h) for each native runtime and environment of
//     the APIs that scale from zero (min_replicas 0), when options.standby is set;
//   - saves the running replicas (pid, start time, port, socket) in the state store, and at
//     start adopts the ones a previous operator left running, after checking that each pid is
//     still the process it started (its start time), never a recycled pid.
// Replica ids are the API's name and 8 random hex digits, unique across deletes and redeploys.
//
// Threading: see ApiBackend. One mutex guards the slots; readiness probes run without it.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/axon_home.h"
#include "common/clock.h"
#include "operator/api_backend.h"
#include "operator/replica_processes.h"
#include "operator/state_store.h"

namespace axon::operator_ {

struct LocalBackendOptions {
  AxonHome home;
  std::chrono::milliseconds drain{30'000};      // how long a stopping replica may drain
  std::chrono::milliseconds backoff_base{500};  // first restart delay after a crash
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds stable_after{10'000};    // ready this long = crash count forgotten
  std::chrono::milliseconds ready_timeout{600'000};  // starting longer = replaced
  int crash_loop_threshold = 3;                      // failures in a row that mean "error"
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  bool standby = true;  // keep standby replicas for native APIs that scale from zero
};

class LocalBackend final : public ApiBackend {
 public:
  LocalBackend(LocalBackendOptions options, ReplicaProcesses& processes, StateStore& store,
               const Clock& clock);

  // Takes over the replicas saved by an earlier operator that still run (same pid and start
  // time) for APIs applied so far; replicas of other versions are adopted as outdated. Returns
  // how many current-revision replicas each API got. Call once, after the first Apply()s.
  std::map<std::string, int64_t> AdoptSaved();

  void Apply(const ApiTarget& target) override;
  void Remove(const std::string& api) override;
  ApiObservation Observe(const std::string& api) const override;
  bool Starting() const override;
  void Reconcile() override;
  void RoutesPublished(bool routed) override;
  void StopAll() override;

 private:
  struct Slot {
    std::string id;
    std::string api;
    int64_t revision = 0;
    int64_t version = 0;
    ReplicaState state = ReplicaState::kStarting;
    ReplicaHandle handle;
    uint16_t port = 0;
    int restarts = 0;
    int consecutive_failures = 0;
    bool predictor_failed = false;  // the last exit was a predictor that could not load
    bool timed_out = false;         // killed for not getting ready within ready_timeout
    bool failed_unready = false;    // the last failure happened before it got ready
    std::string last_failure;
    TimePoint started_at{};
    TimePoint ready_at{};
    TimePoint restart_at{};
    TimePoint stop_requested_at{};
    TimePoint stop_deadline{};  // zero until SIGTERM is sent
  };
  struct Api {
    ApiTarget target;
    std::vector<Slot> slots;
    std::string error;
    bool start_failing = false;
  };
  struct Probe {
    std::string api;
    std::string id;
    ReplicaHandle handle;
    uint16_t port;
    bool ready = false;
  };

  std::string NewReplicaId(const std::string& api) const;  // mu_ held
  // The environment of every replica of `target` (ReplicaLaunch::env).
  std::map<std::string, std::string> ApiEnvironment(const ApiTarget& target) const;
  std::vector<StandbySpec> WantedStandbysLocked() const;
  bool StartingLocked() const;
  void ReapLocked(Api& api, TimePoint now);
  void TimeOutStartingLocked(Api& api, TimePoint now);
  std::vector<Probe> CollectProbesLocked();
  void ApplyProbesLocked(const std::vector<Probe>& probes, TimePoint now);
  void ScaleLocked(Api& api, TimePoint now);
  void UpdateErrorLocked(Api& api) const;
  void StartLocked(const ApiTarget& target, Slot& slot, TimePoint now);
  void StopLocked(Slot slot, TimePoint now);
  void FinishStoppingLocked(TimePoint now);
  void SaveLocked();
  static ReplicaStatus StatusOf(const Slot& slot, int64_t current_revision);

  const LocalBackendOptions options_;
  ReplicaProcesses& processes_;
  StateStore& store_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::map<std::string, Api> apis_;   // guarded by mu_
  std::vector<Slot> stopping_;        // guarded by mu_; draining, awaiting exit
  std::vector<StoredReplica> saved_;  // guarded by mu_; as last saved
};

}  // namespace axon::operator_
