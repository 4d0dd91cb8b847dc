#include "operator/local_backend.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/process.h"
#include "operator/bundles.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

constexpr int kLogLinesInErrors = 8;
constexpr auto kMaxWaitForRoutes = 5s;

}  // namespace

const char* ReplicaStateName(ReplicaState state) {
  switch (state) {
    case ReplicaState::kStarting:
      return "starting";
    case ReplicaState::kReady:
      return "ready";
    case ReplicaState::kWaitingRestart:
      return "waiting_restart";
    case ReplicaState::kStopping:
      return "stopping";
  }
  return "unknown";
}

int64_t ApiObservation::ReadyCurrent() const {
  return std::count_if(replicas.begin(), replicas.end(), [](const ReplicaStatus& r) {
    return r.current && r.state == ReplicaState::kReady;
  });
}

int64_t ApiObservation::Current() const {
  return std::count_if(replicas.begin(), replicas.end(), [](const ReplicaStatus& r) {
    return r.current && r.state != ReplicaState::kStopping;
  });
}

int64_t ApiObservation::Outdated() const {
  return std::count_if(replicas.begin(), replicas.end(), [](const ReplicaStatus& r) {
    return !r.current && r.state != ReplicaState::kStopping;
  });
}

LocalBackend::LocalBackend(LocalBackendOptions options, ReplicaProcesses& processes,
                           StateStore& store, const Clock& clock)
    : options_(std::move(options)), processes_(processes), store_(store), clock_(clock) {}

std::string LocalBackend::NewReplicaId(const std::string& api) const {
  for (;;) {
    std::string id = api + "-" + RandomHex(4);
    bool taken =
        std::any_of(stopping_.begin(), stopping_.end(), [&](const Slot& s) { return s.id == id; });
    for (const auto& [name, a] : apis_) {
      for (const auto& s : a.slots) taken = taken || s.id == id;
    }
    std::error_code ec;
    if (!taken && !std::filesystem::exists(options_.home.RunDir() / "replicas" / id, ec)) {
      return id;
    }
  }
}

std::map<std::string, int64_t> LocalBackend::AdoptSaved() {
  std::lock_guard lock(mu_);
  std::map<std::string, int64_t> adopted;
  auto saved = store_.Replicas();
  if (!saved.ok()) {
    spdlog::error("cannot read the replicas an earlier operator ran: {}", saved.status().message());
    return adopted;
  }
  const TimePoint now = clock_.Now();
  for (const auto& stored : *saved) {
    ReplicaHandle handle{static_cast<pid_t>(stored.pid), static_cast<uint64_t>(stored.start_time),
                         stored.state_dir, stored.socket};
    // Saved before start times were: the process's environment must name the replica.
    if (handle.start_time == 0 &&
        ProcessEnvironmentValue(handle.pid, "AXON_REPLICA_ID") == stored.id) {
      handle.start_time = ProcessStartTime(handle.pid).value_or(0);
    }
    auto it = apis_.find(stored.api);
    if (it == apis_.end() || handle.start_time == 0 || processes_.CheckExited(handle)) {
      continue;  // its API is gone, or the process is not the one that was started
    }
    Api& api = it->second;
    Slot slot;
    slot.id = stored.id;
    slot.api = stored.api;
    slot.version = stored.version;
    // A replica of an older version is adopted as outdated: it serves until its successor is up.
    slot.revision = stored.version == api.target.version ? api.target.revision : 0;
    slot.state = ReplicaState::kStarting;  // the next probe makes it ready again
    slot.handle = handle;
    slot.port = static_cast<uint16_t>(stored.port);
    slot.restarts = static_cast<int>(stored.restarts);
    slot.started_at = now;
    if (slot.revision == api.target.revision) adopted[stored.api]++;
    spdlog::info("api {}: adopted running replica {} (pid {}, version {})", stored.api, slot.id,
                 stored.pid, stored.version);
    api.slots.push_back(std::move(slot));
  }
  SaveLocked();
  return adopted;
}

void LocalBackend::Apply(const ApiTarget& target) {
  std::lock_guard lock(mu_);
  Api& api = apis_[target.api];
  api.target = target;
  UpdateErrorLocked(api);  // the failure of an older revision is not the new one's
}

void LocalBackend::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return;
  const TimePoint now = clock_.Now();
  for (auto& slot : it->second.slots) StopLocked(std::move(slot), now);
  apis_.erase(it);
}

ReplicaStatus LocalBackend::StatusOf(const Slot& slot, int64_t current_revision) {
  return {.id = slot.id,
          .version = slot.version,
          .current = slot.revision == current_revision,
          .state = slot.state,
          .pid = slot.handle.pid,
          .host = "127.0.0.1",
          .port = slot.port,
          .socket = slot.handle.socket,
          .restarts = slot.restarts,
          .last_failure = slot.last_failure};
}

ApiObservation LocalBackend::Observe(const std::string& name) const {
  std::lock_guard lock(mu_);
  ApiObservation out;
  auto it = apis_.find(name);
  const int64_t revision = it != apis_.end() ? it->second.target.revision : -1;
  if (it != apis_.end()) {
    out.error = it->second.error;
    out.start_failing = it->second.start_failing;
    for (const auto& slot : it->second.slots) out.replicas.push_back(StatusOf(slot, revision));
  }
  for (const auto& slot : stopping_) {
    if (slot.api == name) out.replicas.push_back(StatusOf(slot, revision));
  }
  return out;
}

bool LocalBackend::Starting() const {
  std::lock_guard lock(mu_);
  return StartingLocked();
}

bool LocalBackend::StartingLocked() const {
  for (const auto& [name, api] : apis_) {
    for (const auto& slot : api.slots) {
      if (slot.state == ReplicaState::kStarting && !slot.timed_out) return true;
    }
  }
  return false;
}

void LocalBackend::Reconcile() {
  std::vector<Probe> probes;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.Now();
    for (auto& [name, api] : apis_) {
      ReapLocked(api, now);
      TimeOutStartingLocked(api, now);
    }
    probes = CollectProbesLocked();
  }
  for (auto& probe : probes) probe.ready = processes_.Ready(probe.handle, probe.port);
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  ApplyProbesLocked(probes, now);
  for (auto& [name, api] : apis_) {
    ScaleLocked(api, now);
    UpdateErrorLocked(api);
  }
  FinishStoppingLocked(now);
  SaveLocked();
  processes_.KeepStandbys(WantedStandbysLocked(), !StartingLocked());
}

std::vector<StandbySpec> LocalBackend::WantedStandbysLocked() const {
  std::vector<StandbySpec> wanted;
  if (!options_.standby) return wanted;
  for (const auto& [name, api] : apis_) {
    const spec::ApiSpec& spec = api.target.spec;
    if (!spec::IsNativeType(spec.predictor.type) || spec.autoscaling.min_replicas != 0) continue;
    StandbySpec standby{spec.predictor.type, ApiEnvironment(api.target)};
    if (std::find(wanted.begin(), wanted.end(), standby) == wanted.end()) {
      wanted.push_back(std::move(standby));
    }
  }
  return wanted;
}

void LocalBackend::RoutesPublished(bool routed) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  // Replicas leave the routes before they are told to stop. If the gateway cannot be told,
  // stopping waits a little (it may be restarting) and then goes ahead.
  for (auto& slot : stopping_) {
    if (slot.stop_deadline == TimePoint{} &&
        (routed || now - slot.stop_requested_at >= kMaxWaitForRoutes)) {
      processes_.Stop(slot.handle);
      slot.stop_deadline = now + options_.drain;
    }
  }
}

void LocalBackend::ReapLocked(Api& api, TimePoint now) {
  for (auto& slot : api.slots) {
    if (slot.state == ReplicaState::kReady && slot.consecutive_failures > 0 &&
        now - slot.ready_at >= options_.stable_after) {
      slot.consecutive_failures = 0;  // it has run long enough: forget earlier crashes
    }
    if (slot.state != ReplicaState::kStarting && slot.state != ReplicaState::kReady) continue;
    const auto exit = processes_.CheckExited(slot.handle);
    if (!exit) continue;
    const std::string reason = processes_.FailureReason(slot.handle);
    const bool was_ready = slot.state == ReplicaState::kReady;
    slot.predictor_failed = !reason.empty();
    slot.failed_unready = !was_ready;
    if (slot.timed_out) {
      slot.last_failure = fmt::format(
          "replica did not become ready within {:g} s (a predictor stuck loading?); it was "
          "replaced",
          static_cast<double>(options_.ready_timeout.count()) / 1000.0);
    } else {
      slot.last_failure = !reason.empty() ? reason
                          : was_ready     ? "replica crashed (" + *exit + ")"
                                          : "replica exited (" + *exit + ") before becoming ready";
    }
    slot.timed_out = false;
    const std::string log_tail = TailFile(options_.home.ApiLog(api.target.api), kLogLinesInErrors);
    if (!log_tail.empty()) slot.last_failure += "\nlast log lines:\n" + log_tail;
    slot.consecutive_failures++;
    const auto backoff = std::min<std::chrono::milliseconds>(
        options_.backoff_max,
        options_.backoff_base * (1LL << std::min(slot.consecutive_failures - 1, 20)));
    slot.state = ReplicaState::kWaitingRestart;
    slot.restart_at = now + backoff;
    spdlog::warn("api {}: replica {} (pid {}) {}; restarting in {} ms", api.target.api, slot.id,
                 slot.handle.pid, slot.last_failure.substr(0, slot.last_failure.find('\n')),
                 backoff.count());
  }
}

void LocalBackend::TimeOutStartingLocked(Api& api, TimePoint now) {
  for (auto& slot : api.slots) {
    if (slot.state == ReplicaState::kStarting && !slot.timed_out &&
        now - slot.started_at >= options_.ready_timeout) {
      spdlog::warn("api {}: replica {} (pid {}) not ready after {} ms; replacing it",
                   api.target.api, slot.id, slot.handle.pid, options_.ready_timeout.count());
      slot.timed_out = true;
      processes_.Kill(slot.handle);  // reaped, with the reason, on the next pass
    }
  }
}

std::vector<LocalBackend::Probe> LocalBackend::CollectProbesLocked() {
  std::vector<Probe> probes;
  for (auto& [name, api] : apis_) {
    for (auto& slot : api.slots) {
      if (slot.state != ReplicaState::kStarting || slot.timed_out) continue;
      if (slot.port == 0) slot.port = processes_.Port(slot.handle).value_or(0);
      if (slot.port != 0) probes.push_back({name, slot.id, slot.handle, slot.port});
    }
  }
  return probes;
}

void LocalBackend::ApplyProbesLocked(const std::vector<Probe>& probes, TimePoint now) {
  for (const auto& probe : probes) {
    if (!probe.ready) continue;
    auto it = apis_.find(probe.api);
    if (it == apis_.end()) continue;
    for (auto& slot : it->second.slots) {
      if (slot.id == probe.id && slot.state == ReplicaState::kStarting && !slot.timed_out) {
        slot.state = ReplicaState::kReady;
        slot.ready_at = now;
        slot.predictor_failed = false;
        spdlog::info("api {}: replica {} ready (pid {}, port {})", probe.api, slot.id,
                     slot.handle.pid, slot.port);
      }
    }
  }
}

void LocalBackend::ScaleLocked(Api& api, TimePoint now) {
  const ApiTarget& target = api.target;
  const int64_t desired = target.replicas;
  auto& slots = api.slots;
  auto current = [&] {
    return std::count_if(slots.begin(), slots.end(),
                         [&](const Slot& s) { return s.revision == target.revision; });
  };
  // Restart crashed replicas of the current revision whose backoff has passed.
  for (auto& slot : slots) {
    if (slot.revision == target.revision && slot.state == ReplicaState::kWaitingRestart &&
        now >= slot.restart_at) {
      StartLocked(target, slot, now);
    }
  }
  // A rollout (replicas of an older revision exist) follows update_strategy: at most
  // desired + max_surge replicas at once, at least desired - max_unavailable ready.
  const bool rolling = current() < static_cast<int64_t>(slots.size());
  const int64_t surge = target.spec.update_strategy.max_surge.Resolve(desired, /*round_up=*/true);
  const int64_t unavailable =
      target.spec.update_strategy.max_unavailable.Resolve(desired, /*round_up=*/false);
  const int64_t max_total = rolling ? desired + std::max<int64_t>(surge, 0) : desired;
  // Add missing replicas of the current revision.
  for (int64_t n = current(); n < desired && static_cast<int64_t>(slots.size()) < max_total; ++n) {
    Slot slot;
    slot.id = NewReplicaId(target.api);
    slot.api = target.api;
    StartLocked(target, slot, now);
    slots.push_back(std::move(slot));
  }
  // Remove surplus: not-ready replicas first, then the newest.
  std::stable_partition(slots.begin(), slots.end(),
                        [](const Slot& s) { return s.state == ReplicaState::kReady; });
  for (int64_t n = current(); n > desired; --n) {
    auto victim = std::find_if(slots.rbegin(), slots.rend(),
                               [&](const Slot& s) { return s.revision == target.revision; });
    StopLocked(std::move(*victim), now);
    slots.erase(std::next(victim).base());
  }
  // Outdated replicas that are not ready go at once; ready ones one by one, as long as
  // desired - max_unavailable replicas stay ready.
  auto ready_total = [&] {
    return std::count_if(slots.begin(), slots.end(),
                         [](const Slot& s) { return s.state == ReplicaState::kReady; });
  };
  for (auto it = slots.begin(); it != slots.end();) {
    if (it->revision != target.revision &&
        (it->state != ReplicaState::kReady || ready_total() - 1 >= desired - unavailable)) {
      StopLocked(std::move(*it), now);
      it = slots.erase(it);
    } else {
      ++it;
    }
  }
}

void LocalBackend::UpdateErrorLocked(Api& api) const {
  api.error.clear();
  api.start_failing = false;
  for (const auto& slot : api.slots) {
    // A failing slot keeps the API in "error" while it restarts, until it is ready again.
    if (slot.revision == api.target.revision && slot.state != ReplicaState::kReady &&
        (slot.predictor_failed || slot.consecutive_failures >= options_.crash_loop_threshold)) {
      api.error = slot.last_failure;
      api.start_failing = slot.failed_unready;
    }
  }
}

std::map<std::string, std::string> LocalBackend::ApiEnvironment(const ApiTarget& target) const {
  auto env = target.spec.predictor.env;
  env["PYTHONUNBUFFERED"] = "1";
  // OpenMP and OpenBLAS would start a thread per core in every replica; they get the API's
  // intra-op threads unless the spec's env says otherwise.
  const std::string intra_op = std::to_string(target.spec.predictor.intra_op_threads);
  env.try_emplace("OMP_NUM_THREADS", intra_op);
  env.try_emplace("OPENBLAS_NUM_THREADS", intra_op);
  env["AXON_HOME"] = options_.home.root.string();
  return env;
}

void LocalBackend::StartLocked(const ApiTarget& target, Slot& slot, TimePoint now) {
  if (slot.handle.pid != 0) slot.restarts++;
  slot.revision = target.revision;
  slot.version = target.version;
  slot.port = 0;
  slot.started_at = now;
  slot.timed_out = false;
  auto handle = processes_.Start({.api = target.api,
                                  .replica_id = slot.id,
                                  .spec_file = target.spec_file,
                                  .state_dir = options_.home.RunDir() / "replicas" / slot.id,
                                  .log_file = options_.home.ApiLog(target.api),
                                  .working_dir = SourceFolder(target.spec.predictor),
                                  .drain = options_.drain,
                                  .max_body_bytes = options_.max_body_bytes,
                                  .env = ApiEnvironment(target),
                                  .replica_env =
                                      {
                                          // a job's workers too (target.api names the job)
                                          {"AXON_API", target.spec.name},
                                          {"AXON_REPLICA_ID", slot.id},
                                          // also the v2 model_version
                                          {"AXON_API_VERSION", std::to_string(slot.version)},
                                      },
                                  .runtime = spec::IsNativeType(target.spec.predictor.type)
                                                 ? target.spec.predictor.type
                                                 : ""});
  if (!handle.ok()) {
    slot.state = ReplicaState::kWaitingRestart;
    slot.consecutive_failures++;
    slot.last_failure = handle.status().message();
    slot.restart_at = now + options_.backoff_max;
    spdlog::error("api {}: cannot start replica {}: {}", target.api, slot.id, slot.last_failure);
    return;
  }
  slot.handle = *handle;
  slot.state = ReplicaState::kStarting;
  spdlog::info("api {}: started replica {} (pid {}, version {})", target.api, slot.id,
               slot.handle.pid, slot.version);
}

void LocalBackend::StopLocked(Slot slot, TimePoint now) {
  if (slot.state == ReplicaState::kWaitingRestart) {  // no process to stop
    std::error_code ec;
    std::filesystem::remove_all(slot.handle.state_dir, ec);
    return;
  }
  slot.state = ReplicaState::kStopping;
  slot.stop_requested_at = now;
  slot.stop_deadline = TimePoint{};  // SIGTERM follows once the gateway has forgotten it
  stopping_.push_back(std::move(slot));
}

void LocalBackend::FinishStoppingLocked(TimePoint now) {
  std::erase_if(stopping_, [&](Slot& slot) {
    if (processes_.CheckExited(slot.handle)) {
      std::error_code ec;
      std::filesystem::remove_all(slot.handle.state_dir, ec);
      return true;
    }
    if (slot.stop_deadline != TimePoint{} && now > slot.stop_deadline) {
      spdlog::warn("replica {} did not drain in time; killing it", slot.id);
      processes_.Kill(slot.handle);
    }
    return false;
  });
}

void LocalBackend::SaveLocked() {
  std::vector<StoredReplica> running;
  for (const auto& [name, api] : apis_) {
    for (const auto& slot : api.slots) {
      if (slot.state != ReplicaState::kStarting && slot.state != ReplicaState::kReady) continue;
      running.push_back({slot.id, name, slot.version, slot.handle.pid,
                         static_cast<int64_t>(slot.handle.start_time), slot.port,
                         slot.handle.socket, slot.handle.state_dir.string(), slot.restarts});
    }
  }
  if (running == saved_) return;
  if (Status s = store_.SaveReplicas(running); !s.ok()) {
    spdlog::error("{}", s.message());
    return;
  }
  saved_ = std::move(running);
}

void LocalBackend::StopAll() {
  std::unique_lock lock(mu_);
  processes_.KeepStandbys({}, false);
  const TimePoint now = clock_.Now();
  for (auto& [name, api] : apis_) {
    for (auto& slot : api.slots) StopLocked(std::move(slot), now);
    api.slots.clear();
  }
  for (auto& slot : stopping_) {
    if (slot.stop_deadline == TimePoint{}) processes_.Stop(slot.handle);
    slot.stop_deadline = now + options_.drain;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.drain + 1s;
  while (!stopping_.empty() && std::chrono::steady_clock::now() < deadline) {
    FinishStoppingLocked(clock_.Now());
    lock.unlock();
    std::this_thread::sleep_for(20ms);
    lock.lock();
  }
  for (auto& slot : stopping_) processes_.Kill(slot.handle);
  SaveLocked();  // none run any more
}

}  // namespace axon::operator_
