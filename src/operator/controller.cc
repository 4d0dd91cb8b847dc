#include "operator/controller.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "http/client.h"
#include "operator/predictor_folder.h"
#include "spec/spec_parser.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

constexpr int kLogLinesInErrors = 8;
constexpr auto kMaxWaitForRoutes = 5s;

const char* ActionName(DeployAction action) {
  switch (action) {
    case DeployAction::kCreated:
      return "created";
    case DeployAction::kUpdated:
      return "updated";
    case DeployAction::kUnchanged:
      return "unchanged";
  }
  return "unknown";
}

// The spec as it matters for "did anything change": without where it was declared.
std::string SpecFingerprintText(spec::ApiSpec spec) {
  spec.source_file.clear();
  spec.source_line = 0;
  return spec::ToJson(spec).dump();
}

bool ProbeReady(uint16_t port) {
  auto res =
      http::Fetch("127.0.0.1", port, http::MakeRequest(http::bhttp::verb::get, "/healthz"), 300ms);
  return res.ok() && res->result_int() == 200;
}

}  // namespace

Controller::Controller(ControllerOptions options, StateStore& store, ReplicaBackend& backend,
                       GatewayLink& gateway, const Clock& clock)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      gateway_(gateway),
      clock_(clock) {}

void Controller::LoadFromStore() {
  std::lock_guard lock(mu_);
  for (const auto& stored : store_.List()) {
    if (Status s = Activate(stored); !s.ok()) {
      spdlog::error("cannot load api {} from the state store: {}", stored.name, s.message());
    }
  }
  const TimePoint now = clock_.Now();
  for (const auto& replica : store_.Replicas()) AdoptLocked(replica, now);
  // Adopted replicas may be more than init_replicas (the autoscaler had added some): keep them.
  for (auto& [name, api] : apis_) {
    if (api.UpToDate() > 0) {
      api.requested = std::clamp(api.UpToDate(), api.spec.autoscaling.min_replicas,
                                 api.spec.autoscaling.max_replicas);
    }
  }
  SaveReplicasLocked();
}

void Controller::AdoptLocked(const StoredReplica& stored, TimePoint now) {
  const ReplicaHandle handle{static_cast<pid_t>(stored.pid), stored.state_dir, stored.socket};
  auto it = apis_.find(stored.api);
  if (it == apis_.end() || backend_.CheckExited(handle)) return;  // gone, or its api is
  ApiRuntime& api = it->second;
  ReplicaSlot slot;
  slot.id = stored.id;
  slot.api = stored.api;
  slot.version = stored.version;
  // A replica of an older version is adopted as outdated: it serves until its successor is up.
  slot.revision = stored.version == api.version ? api.revision : 0;
  slot.phase = ReplicaPhase::kStarting;  // the next probe makes it ready again
  slot.handle = handle;
  slot.port = static_cast<uint16_t>(stored.port);
  slot.restarts = static_cast<int>(stored.restarts);
  slot.started_at = now;
  const auto dash = stored.id.rfind('-');
  if (dash != std::string::npos) {
    api.next_replica_number =
        std::max(api.next_replica_number, std::atoi(stored.id.c_str() + dash + 1));
  }
  spdlog::info("api {}: adopted running replica {} (pid {}, version {})", stored.api, slot.id,
               stored.pid, stored.version);
  api.replicas.push_back(std::move(slot));
}

void Controller::SaveReplicasLocked() {
  std::vector<StoredReplica> running;
  for (const auto& [name, api] : apis_) {
    for (const auto& slot : api.replicas) {
      if (slot.phase != ReplicaPhase::kStarting && slot.phase != ReplicaPhase::kReady) continue;
      running.push_back({slot.id, name, slot.version, slot.handle.pid, slot.port,
                         slot.handle.socket, slot.handle.state_dir.string(), slot.restarts});
    }
  }
  if (running == saved_replicas_) return;
  if (Status s = store_.SaveReplicas(running); !s.ok()) {
    spdlog::error("{}", s.message());
    return;
  }
  saved_replicas_ = std::move(running);
}

Status Controller::Activate(const StoredApi& stored) {
  spec::ApiSpec spec;
  try {
    spec = spec::ApiSpecFromJson(nlohmann::json::parse(stored.spec_json));
  } catch (const std::exception& e) {
    return Internal(std::string("stored spec is unreadable: ") + e.what());
  }
  ApiRuntime& api = apis_[stored.name];
  if (api.version == stored.version) return OkStatus();
  if (api.autoscaler == nullptr) {
    api.requested = spec.autoscaling.init_replicas;
    api.autoscaler = std::make_unique<Autoscaler>(spec.autoscaling);
  } else {  // an update keeps the current scale, within the new bounds
    api.requested =
        std::clamp(api.requested, spec.autoscaling.min_replicas, spec.autoscaling.max_replicas);
    api.autoscaler->set_spec(spec.autoscaling);
  }
  api.spec = std::move(spec);
  api.version = stored.version;
  api.updated_at = stored.updated_at;
  api.revision++;
  api.error.clear();
  api.spec_file = options_.home.RunDir() / "apis" /
                  (stored.name + "-v" + std::to_string(stored.version) + ".json");
  return WriteFileAtomic(api.spec_file, stored.spec_json);
}

StatusOr<nlohmann::json> Controller::Deploy(const std::string& file, const std::string& yaml) {
  const spec::ParseResult parsed = spec::ParseSpecText(yaml, file);
  if (!parsed.ok()) return InvalidArgument(parsed.ErrorText());
  std::lock_guard lock(mu_);
  std::vector<StoredApi> stored;
  for (const auto& api : parsed.apis) {
    for (const auto& [name, other] : apis_) {
      if (name != api.name && other.spec.networking.endpoint == api.networking.endpoint) {
        return AlreadyExists(file + ":" + std::to_string(api.source_line) + ": api \"" + api.name +
                             "\": networking.endpoint: " + api.networking.endpoint +
                             " is already served by api \"" + name +
                             "\"; choose another endpoint or delete that api");
      }
    }
    auto snapshotted = Snapshot(api);
    if (!snapshotted.ok()) return snapshotted.status();
    stored.push_back(std::move(snapshotted).value());
  }
  return ApplyLocked(stored);
}

StatusOr<StoredApi> Controller::Snapshot(const spec::ApiSpec& api) const {
  const std::filesystem::path folder = SourceFolder(api.predictor);
  const std::string hash = ContentHash(SpecFingerprintText(api), folder);
  const auto snapshot = options_.home.root / "versions" / (api.name + "-" + hash);
  if (Status s = SnapshotFolder(folder, snapshot); !s.ok()) return s;
  spec::ApiSpec runs = api;
  // Paths into the snapshotted folder now point into the snapshot.
  auto rebase = [&](std::string& path) {
    if (path.empty()) return;
    const auto relative = std::filesystem::path(path).lexically_relative(folder);
    if (relative.empty() || *relative.begin() == "..") return;  // outside: used in place
    path = relative == "." ? snapshot.string() : (snapshot / relative).lexically_normal().string();
  };
  rebase(runs.predictor.path);
  rebase(runs.predictor.model.model_path);
  for (auto& model : runs.predictor.models) rebase(model.model_path);
  return StoredApi{.name = api.name, .spec_json = spec::ToJson(runs).dump(), .content_hash = hash};
}

StatusOr<nlohmann::json> Controller::ApplyLocked(std::vector<StoredApi>& stored) {
  auto actions = store_.Deploy(stored);
  if (!actions.ok()) return actions.status();
  nlohmann::json result = nlohmann::json::array();
  for (size_t i = 0; i < stored.size(); ++i) {
    if (Status s = Activate(stored[i]); !s.ok()) return s;
    result.push_back({{"api", stored[i].name},
                      {"action", ActionName((*actions)[i])},
                      {"version", stored[i].version},
                      {"endpoint", apis_[stored[i].name].spec.networking.endpoint}});
    spdlog::info("deploy: api {} {} (version {})", stored[i].name, ActionName((*actions)[i]),
                 stored[i].version);
  }
  return result;
}

StatusOr<nlohmann::json> Controller::Rollback(const std::string& name, int64_t version) {
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
  const int64_t current = it->second.version;
  const auto history = store_.History(name);
  const StoredApi* target = nullptr;
  for (const auto& v : history) {
    if (version > 0 ? v.version == version : v.version < current) target = &v;
  }
  if (target == nullptr) {
    return NotFound(version > 0
                        ? "api " + name + " has no version " + std::to_string(version)
                        : "api " + name + " has no version before " + std::to_string(current));
  }
  std::vector<StoredApi> stored{
      {.name = name, .spec_json = target->spec_json, .content_hash = target->content_hash}};
  auto result = ApplyLocked(stored);
  if (result.ok() && (*result)[0]["action"] == "unchanged") {
    return AlreadyExists("api " + name + " already runs the content of version " +
                         std::to_string(target->version));
  }
  return result;
}

Status Controller::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
  if (Status s = store_.Delete(name); !s.ok() && s.code() != StatusCode::kNotFound) return s;
  const TimePoint now = clock_.Now();
  for (auto& slot : it->second.replicas) StopReplicaLocked(std::move(slot), now);
  apis_.erase(it);
  spdlog::info("deleted api {}", name);
  return OkStatus();
}

Status Controller::Refresh(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
  it->second.revision++;
  it->second.error.clear();
  spdlog::info("refresh: replacing every replica of api {}", name);
  return OkStatus();
}

void Controller::Tick() {
  Autoscale();
  std::vector<Probe> probes;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.Now();
    for (auto& [name, api] : apis_) ReapLocked(api, now);
    probes = CollectProbesLocked();
  }
  for (auto& probe : probes) probe.ready = ProbeReady(probe.port);
  nlohmann::json routes;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.Now();
    ApplyProbesLocked(probes, now);
    for (auto& [name, api] : apis_) ScaleLocked(api, now);
    FinishStoppingLocked(now);
    SaveReplicasLocked();
    routes = RoutesLocked();
  }
  // Replicas leave the routes before they are told to stop. If the gateway cannot be told,
  // stopping waits a little (it may be restarting) and then goes ahead.
  const bool routed = gateway_.Sync(routes);
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  for (auto& slot : stopping_) {
    if (slot.stop_deadline == TimePoint{} &&
        (routed || now - slot.stop_requested_at >= kMaxWaitForRoutes)) {
      backend_.Stop(slot.handle);
      slot.stop_deadline = now + options_.drain;
    }
  }
}

void Controller::ReapLocked(ApiRuntime& api, TimePoint now) {
  for (auto& slot : api.replicas) {
    if (slot.phase == ReplicaPhase::kReady && slot.consecutive_failures > 0 &&
        now - slot.ready_at >= options_.stable_after) {
      slot.consecutive_failures = 0;  // it has run long enough: forget earlier crashes
    }
    if (slot.phase != ReplicaPhase::kStarting && slot.phase != ReplicaPhase::kReady) continue;
    const auto exit = backend_.CheckExited(slot.handle);
    if (!exit) continue;
    const std::string reason = backend_.FailureReason(slot.handle);
    const bool was_ready = slot.phase == ReplicaPhase::kReady;
    slot.predictor_failed = !reason.empty();
    slot.last_failure = !reason.empty() ? reason
                        : was_ready     ? "replica crashed (" + *exit + ")"
                                        : "replica exited (" + *exit + ") before becoming ready";
    const std::string log_tail = TailFile(options_.home.ApiLog(api.spec.name), kLogLinesInErrors);
    if (!log_tail.empty()) slot.last_failure += "\nlast log lines:\n" + log_tail;
    slot.consecutive_failures++;
    const auto backoff = std::min<std::chrono::milliseconds>(
        options_.backoff_max,
        options_.backoff_base * (1LL << std::min(slot.consecutive_failures - 1, 20)));
    slot.phase = ReplicaPhase::kWaitingRestart;
    slot.restart_at = now + backoff;
    spdlog::warn("api {}: replica {} (pid {}) {}; restarting in {} ms", api.spec.name, slot.id,
                 slot.handle.pid, reason.empty() ? *exit : reason, backoff.count());
  }
}

std::vector<Controller::Probe> Controller::CollectProbesLocked() {
  std::vector<Probe> probes;
  for (auto& [name, api] : apis_) {
    for (auto& slot : api.replicas) {
      if (slot.phase != ReplicaPhase::kStarting) continue;
      if (slot.port == 0) slot.port = backend_.Port(slot.handle).value_or(0);
      if (slot.port != 0) probes.push_back({name, slot.id, slot.port});
    }
  }
  return probes;
}

void Controller::ApplyProbesLocked(const std::vector<Probe>& probes, TimePoint now) {
  for (const auto& probe : probes) {
    if (!probe.ready) continue;
    auto it = apis_.find(probe.api);
    if (it == apis_.end()) continue;
    for (auto& slot : it->second.replicas) {
      if (slot.id == probe.replica_id && slot.phase == ReplicaPhase::kStarting) {
        slot.phase = ReplicaPhase::kReady;
        slot.ready_at = now;
        slot.predictor_failed = false;
        spdlog::info("api {}: replica {} ready (pid {}, port {})", probe.api, slot.id,
                     slot.handle.pid, slot.port);
      }
    }
  }
}

void Controller::ScaleLocked(ApiRuntime& api, TimePoint now) {
  const int64_t desired = api.Requested();
  auto& slots = api.replicas;
  // Restart crashed replicas of the current revision whose backoff has passed.
  for (auto& slot : slots) {
    if (slot.revision == api.revision && slot.phase == ReplicaPhase::kWaitingRestart &&
        now >= slot.restart_at) {
      StartReplicaLocked(api, slot, now);
    }
  }
  // A rollout (replicas of an older revision exist) follows update_strategy: at most
  // desired + max_surge replicas at once, at least desired - max_unavailable ready.
  const bool rolling = api.UpToDate() < static_cast<int64_t>(slots.size());
  const int64_t surge = api.spec.update_strategy.max_surge.Resolve(desired, /*round_up=*/true);
  const int64_t unavailable =
      api.spec.update_strategy.max_unavailable.Resolve(desired, /*round_up=*/false);
  const int64_t max_total = rolling ? desired + std::max<int64_t>(surge, 0) : desired;
  // Add missing replicas of the current revision.
  for (int64_t n = api.UpToDate(); n < desired && static_cast<int64_t>(slots.size()) < max_total;
       ++n) {
    ReplicaSlot slot;
    slot.id = api.spec.name + "-" + std::to_string(++api.next_replica_number);
    slot.api = api.spec.name;
    StartReplicaLocked(api, slot, now);
    slots.push_back(std::move(slot));
  }
  // Remove surplus: not-ready replicas first, then the newest.
  std::stable_partition(slots.begin(), slots.end(),
                        [](const ReplicaSlot& s) { return s.phase == ReplicaPhase::kReady; });
  for (int64_t n = api.UpToDate(); n > desired; --n) {
    auto victim = std::find_if(slots.rbegin(), slots.rend(),
                               [&](const ReplicaSlot& s) { return s.revision == api.revision; });
    StopReplicaLocked(std::move(*victim), now);
    slots.erase(std::next(victim).base());
  }
  // Outdated replicas that are not ready go at once; ready ones one by one, as long as
  // desired - max_unavailable replicas stay ready.
  auto ready_total = [&] {
    return std::count_if(slots.begin(), slots.end(),
                         [](const ReplicaSlot& s) { return s.phase == ReplicaPhase::kReady; });
  };
  for (auto it = slots.begin(); it != slots.end();) {
    if (it->revision != api.revision &&
        (it->phase != ReplicaPhase::kReady || ready_total() - 1 >= desired - unavailable)) {
      StopReplicaLocked(std::move(*it), now);
      it = slots.erase(it);
    } else {
      ++it;
    }
  }
  api.error.clear();
  for (const auto& slot : slots) {
    // A failing slot keeps the API in "error" while it restarts, until it is ready again.
    if (slot.revision == api.revision && slot.phase != ReplicaPhase::kReady &&
        (slot.predictor_failed || slot.consecutive_failures >= options_.crash_loop_threshold)) {
      api.error = slot.last_failure;
    }
  }
}

void Controller::StartReplicaLocked(ApiRuntime& api, ReplicaSlot& slot, TimePoint now) {
  if (slot.handle.pid != 0) slot.restarts++;
  slot.revision = api.revision;
  slot.version = api.version;
  slot.port = 0;
  slot.started_at = now;
  auto env = api.spec.predictor.env;
  env["PYTHONUNBUFFERED"] = "1";
  // OpenMP and OpenBLAS would start a thread per core in every replica; they get the API's
  // intra-op threads unless the spec's env says otherwise.
  const std::string intra_op = std::to_string(api.spec.predictor.intra_op_threads);
  env.try_emplace("OMP_NUM_THREADS", intra_op);
  env.try_emplace("OPENBLAS_NUM_THREADS", intra_op);
  env["AXON_API"] = api.spec.name;
  env["AXON_REPLICA_ID"] = slot.id;
  env["AXON_API_VERSION"] = std::to_string(slot.version);
  auto handle = backend_.Start({.api = api.spec.name,
                                .replica_id = slot.id,
                                .spec_file = api.spec_file,
                                .state_dir = options_.home.RunDir() / "replicas" / slot.id,
                                .log_file = options_.home.ApiLog(api.spec.name),
                                .working_dir = SourceFolder(api.spec.predictor),
                                .drain = options_.drain,
                                .env = std::move(env)});
  if (!handle.ok()) {
    slot.phase = ReplicaPhase::kWaitingRestart;
    slot.consecutive_failures++;
    slot.last_failure = handle.status().message();
    slot.restart_at = now + options_.backoff_max;
    spdlog::error("api {}: cannot start replica {}: {}", api.spec.name, slot.id, slot.last_failure);
    return;
  }
  slot.handle = *handle;
  slot.phase = ReplicaPhase::kStarting;
  spdlog::info("api {}: started replica {} (pid {}, version {})", api.spec.name, slot.id,
               slot.handle.pid, slot.version);
}

void Controller::StopReplicaLocked(ReplicaSlot slot, TimePoint now) {
  if (slot.phase == ReplicaPhase::kWaitingRestart) {  // no process to stop
    std::error_code ec;
    std::filesystem::remove_all(slot.handle.state_dir, ec);
    return;
  }
  slot.phase = ReplicaPhase::kStopping;
  slot.stop_requested_at = now;
  slot.stop_deadline = TimePoint{};  // SIGTERM follows once the gateway has forgotten it
  stopping_.push_back(std::move(slot));
}

void Controller::FinishStoppingLocked(TimePoint now) {
  std::erase_if(stopping_, [&](ReplicaSlot& slot) {
    if (backend_.CheckExited(slot.handle)) {
      std::error_code ec;
      std::filesystem::remove_all(slot.handle.state_dir, ec);
      return true;
    }
    if (slot.stop_deadline != TimePoint{} && now > slot.stop_deadline) {
      spdlog::warn("replica {} did not drain in time; killing it", slot.id);
      backend_.Kill(slot.handle);
    }
    return false;
  });
}

nlohmann::json Controller::RoutesLocked() const {
  nlohmann::json apis = nlohmann::json::array();
  for (const auto& [name, api] : apis_) {
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& slot : api.replicas) {
      if (slot.phase == ReplicaPhase::kReady) {
        nlohmann::json replica = {
            {"id", slot.id}, {"host", "127.0.0.1"}, {"port", slot.port}, {"version", slot.version}};
        if (!slot.handle.socket.empty()) replica["socket"] = slot.handle.socket;
        replicas.push_back(std::move(replica));
      }
    }
    apis.push_back({{"name", name},
                    {"endpoint", api.spec.networking.endpoint},
                    {"version", api.version},
                    {"max_replica_concurrency", api.spec.autoscaling.max_replica_concurrency},
                    {"timeout_ms", options_.request_timeout.count()},
                    {"status", api.Status()},
                    {"scale_to_zero", api.spec.autoscaling.min_replicas == 0},
                    {"hold_timeout_ms", options_.hold_timeout.count()},
                    {"max_held", options_.max_held},
                    {"replicas", std::move(replicas)}});
  }
  return {{"apis", std::move(apis)}};
}

void Controller::StopAllReplicas() {
  std::unique_lock lock(mu_);
  const TimePoint now = clock_.Now();
  for (auto& [name, api] : apis_) {
    for (auto& slot : api.replicas) StopReplicaLocked(std::move(slot), now);
    api.replicas.clear();
  }
  for (auto& slot : stopping_) {
    if (slot.stop_deadline == TimePoint{}) backend_.Stop(slot.handle);
    slot.stop_deadline = now + options_.drain;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.drain + 1s;
  while (!stopping_.empty() && std::chrono::steady_clock::now() < deadline) {
    FinishStoppingLocked(clock_.Now());
    lock.unlock();
    std::this_thread::sleep_for(20ms);
    lock.lock();
  }
  for (auto& slot : stopping_) backend_.Kill(slot.handle);
  SaveReplicasLocked();  // none run any more
}

}  // namespace axon::operator_
