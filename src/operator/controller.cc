#include "operator/controller.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/sha256.h"
#include "operator/model_download.h"
#include "operator/splitters.h"
#include "spec/spec_parser.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

// Within the CLI's wait for a deploy's answer (120 s), so that a slow download is an error the
// user reads rather than a call that gives up.
constexpr std::chrono::milliseconds kModelDownloadTimeout = 90s;

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

Status NoSuchApi(const std::string& name) {
  return NotFound("no api named " + name + " (see `axon get`)");
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Controller::Controller(ControllerOptions options, StateStore& store, ApiBackend& backend,
                       Gateways& gateway, BundleStore& bundles, const Clock& clock)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      gateway_(gateway),
      bundles_(bundles),
      clock_(clock),
      history_(sysconf(_SC_CLK_TCK)) {}

Status Controller::LoadFromStore() {
  std::lock_guard deploy_lock(deploy_mu_);
  auto stored = store_.List();
  if (!stored.ok()) return stored.status();
  for (const auto& api : *stored) {
    if (Status s = Activate(api); !s.ok()) {
      spdlog::error("cannot load api {} from the state store: {}", api.name, s.message());
      continue;
    }
    if (Status s = RefreshKeys(api.name); !s.ok()) return s;
  }
  std::lock_guard lock(mu_);
  ApplyTargetsLocked();
  return OkStatus();
}

void Controller::KeepAdoptedScale(const std::map<std::string, int64_t>& adopted) {
  std::lock_guard lock(mu_);
  for (const auto& [name, count] : adopted) {
    auto it = apis_.find(name);
    if (it == apis_.end() || count == 0 || !it->second.spec.ScalesReplicas()) continue;
    const auto& a = it->second.spec.autoscaling;
    it->second.requested = std::clamp(count, a.min_replicas, a.max_replicas);
    backend_.Apply(it->second.Target());
  }
}

Status Controller::Activate(const StoredApi& stored) {
  spec::ApiSpec spec;
  try {
    spec = spec::ApiSpecFromJson(nlohmann::json::parse(stored.spec_json));
  } catch (const std::exception& e) {
    return Internal(std::string("stored spec is unreadable: ") + e.what());
  }
  const auto spec_file = options_.home.RunDir() / "apis" /
                         (stored.name + "-v" + std::to_string(stored.version) + ".json");
  if (Status s = WriteFileAtomic(spec_file, stored.spec_json); !s.ok()) return s;
  std::lock_guard lock(mu_);
  ApiRuntime& api = apis_[stored.name];
  if (api.version == stored.version && api.autoscaler != nullptr) return OkStatus();
  if (!spec.ScalesReplicas()) {
    api.requested = 0;  // a splitter has no replicas; a job API's are its jobs' (job_runner.h)
    if (api.autoscaler == nullptr) api.autoscaler = std::make_unique<Autoscaler>(spec.autoscaling);
  } else if (api.autoscaler == nullptr) {
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
  api.bundle = stored.bundle;
  api.revision++;
  api.spec_file = spec_file;
  // The backend learns the new target now rather than at the next tick, so that a status read
  // right after the deploy (`axon deploy` waiting for the rollout) is about the new version.
  if (api.spec.ScalesReplicas()) backend_.Apply(api.Target());
  return OkStatus();
}

Status Controller::CheckEndpointsFree(const std::vector<spec::ApiSpec>& apis,
                                      const std::string& file) const {
  std::lock_guard lock(mu_);
  for (const auto& api : apis) {
    for (const auto& [name, other] : apis_) {
      if (name != api.name && other.spec.networking.endpoint == api.networking.endpoint) {
        return AlreadyExists(file + ":" + std::to_string(api.source_line) + ": api \"" + api.name +
                             "\": networking.endpoint: " + api.networking.endpoint +
                             " is already served by api \"" + name +
                             "\"; choose another endpoint or delete that api");
      }
    }
  }
  return OkStatus();
}

StatusOr<nlohmann::json> Controller::Deploy(const std::string& file, const std::string& yaml) {
  const spec::ParseResult parsed = spec::ParseSpecText(yaml, file);
  if (!parsed.ok()) return InvalidArgument(parsed.ErrorText());
  std::lock_guard deploy_lock(deploy_mu_);
  // Nothing else adds or moves endpoints while deploy_mu_ is held: this check stays true.
  if (Status s = CheckEndpointsFree(parsed.apis, file); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckSplitters(parsed.apis, apis_, file); !s.ok()) return s;
  }
  std::vector<StoredApi> stored;
  for (const auto& api : parsed.apis) {
    auto made = MakeStored(api);
    if (!made.ok()) return made.status();
    stored.push_back(std::move(made).value());
  }
  auto result = Apply(stored);
  CollectGarbage();
  return result;
}

StatusOr<StoredApi> Controller::MakeStored(const spec::ApiSpec& api) {
  if (!api.RunsReplicas()) {  // no predictor folder: the spec is all there is
    return StoredApi{.name = api.name,
                     .spec_json = spec::ToJson(api).dump(),
                     .content_hash = Sha256Hex(SpecFingerprintText(api))};
  }
  // A model named by URL is downloaded into a folder of its own, which becomes the bundle.
  spec::ApiSpec downloaded;
  std::filesystem::path download_dir;
  if (spec::IsModelUrl(api.predictor.model.model_path)) {
    download_dir = options_.home.root / "downloads" / RandomHex(8);
    auto file = DownloadModel(api.predictor.model.model_path, download_dir, kModelDownloadTimeout);
    if (!file.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(download_dir, ec);
      return Status(file.status().code(), "api " + api.name + ": " + file.status().message());
    }
    downloaded = api;
    downloaded.predictor.model.model_path = file->string();
  }
  const spec::ApiSpec& from = download_dir.empty() ? api : downloaded;
  const std::filesystem::path folder = SourceFolder(from.predictor);
  auto bundle = bundles_.Add(folder, api.source_file);
  if (!download_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(download_dir, ec);  // the bundle has its copy
  }
  if (!bundle.ok()) {
    return Status(bundle.status().code(), "api " + api.name + ": " + bundle.status().message());
  }
  const auto root = bundles_.Path(*bundle);
  spec::ApiSpec runs = from;
  // Paths into the predictor's folder now point into the bundle.
  auto rebase = [&](std::string& path) {
    if (path.empty()) return;
    const auto relative = std::filesystem::path(path).lexically_relative(folder);
    if (relative.empty() || *relative.begin() == "..") return;  // outside: used in place
    path = relative == "." ? root.string() : (root / relative).lexically_normal().string();
  };
  rebase(runs.predictor.path);
  rebase(runs.predictor.model.model_path);
  for (auto& model : runs.predictor.models) rebase(model.model_path);
  rebase(runs.predictor.dependencies.pip);
  rebase(runs.predictor.dependencies.shell);
  return StoredApi{.name = api.name,
                   .spec_json = spec::ToJson(runs).dump(),
                   .content_hash = Sha256Hex(SpecFingerprintText(api) + "\n" + *bundle),
                   .bundle = *bundle};
}

StatusOr<nlohmann::json> Controller::Apply(std::vector<StoredApi>& stored) {
  auto actions = store_.Deploy(stored);
  if (!actions.ok()) return actions.status();
  nlohmann::json result = nlohmann::json::array();
  for (size_t i = 0; i < stored.size(); ++i) {
    // A new API's counters at the gateway start at zero: its history counts from there.
    if ((*actions)[i] == DeployAction::kCreated) history_.Begin(stored[i].name, UnixNowMs());
    if (Status s = Activate(stored[i]); !s.ok()) return s;
    std::string endpoint;
    {
      std::lock_guard lock(mu_);
      endpoint = apis_[stored[i].name].spec.networking.endpoint;
    }
    result.push_back({{"api", stored[i].name},
                      {"action", ActionName((*actions)[i])},
                      {"version", stored[i].version},
                      {"endpoint", endpoint}});
    spdlog::info("deploy: api {} {} (version {})", stored[i].name, ActionName((*actions)[i]),
                 stored[i].version);
  }
  return result;
}

void Controller::CollectGarbage() {
  auto keep = store_.ReferencedBundles();
  if (!keep.ok()) {
    spdlog::error("bundles not collected: {}", keep.status().message());
    return;
  }
  {
    std::lock_guard lock(mu_);  // what runs now stays, whatever the store says
    for (const auto& [name, api] : apis_) keep->insert(api.bundle);
  }
  if (const int removed = bundles_.Collect(*keep); removed > 0) {
    spdlog::info("removed {} bundles that no kept version uses", removed);
  }
}

StatusOr<nlohmann::json> Controller::Rollback(const std::string& name, int64_t version) {
  std::lock_guard deploy_lock(deploy_mu_);
  int64_t current = 0;
  {
    std::lock_guard lock(mu_);
    auto it = apis_.find(name);
    if (it == apis_.end()) return NoSuchApi(name);
    current = it->second.version;
  }
  auto history = store_.History(name);
  if (!history.ok()) return history.status();
  const StoredApi* target = nullptr;
  for (const auto& v : *history) {
    if (version > 0 ? v.version == version : v.version < current) target = &v;
  }
  if (target == nullptr) {
    const std::string kept =
        " (axon keeps the last " + std::to_string(kKeptVersions) + " versions of an API)";
    return NotFound(
        version > 0 ? "api " + name + " has no version " + std::to_string(version) + kept
                    : "api " + name + " has no version before " + std::to_string(current) + kept);
  }
  std::vector<StoredApi> stored{{.name = name,
                                 .spec_json = target->spec_json,
                                 .content_hash = target->content_hash,
                                 .bundle = target->bundle}};
  auto result = Apply(stored);
  if (result.ok() && (*result)[0]["action"] == "unchanged") {
    return AlreadyExists("api " + name + " already runs the content of version " +
                         std::to_string(target->version));
  }
  CollectGarbage();
  return result;
}

Status Controller::Delete(const std::string& name) {
  std::lock_guard deploy_lock(deploy_mu_);
  {
    std::lock_guard lock(mu_);
    if (!apis_.contains(name)) return NoSuchApi(name);
    if (const auto users = SplittersUsing(apis_, name); !users.empty()) {
      return AlreadyExists("api " + name + " receives requests from traffic splitter " +
                           users.front() + "; remove it from " + users.front() +
                           "'s apis (axon deploy) or delete " + users.front() + " first");
    }
  }
  if (Status s = store_.Delete(name); !s.ok() && s.code() != StatusCode::kNotFound) return s;
  if (options_.work_queue != nullptr) {
    if (Status s = options_.work_queue->DropQueue(name); !s.ok()) {
      spdlog::warn("api {}: its queued requests stay in the work queue: {}", name, s.message());
    }
  }
  {
    std::lock_guard lock(mu_);
    apis_.erase(name);
    backend_.Remove(name);
  }
  spdlog::info("deleted api {}", name);
  CollectGarbage();
  return OkStatus();
}

Status Controller::Refresh(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NoSuchApi(name);
  if (!it->second.spec.RunsReplicas()) {
    return InvalidArgument("api " + name +
                           " is a TrafficSplitter and runs no replicas; refresh "
                           "the APIs it sends requests to");
  }
  if (it->second.spec.RunsJobs()) {
    return InvalidArgument("api " + name + " is " + spec::KindWithArticle(it->second.spec.kind) +
                           ": its replicas are the workers of its jobs, started for each job "
                           "with the API's current version");
  }
  it->second.revision++;
  spdlog::info("refresh: replacing every replica of api {}", name);
  return OkStatus();
}

Status Controller::RefreshKeys(const std::string& name) {
  auto keys = store_.Keys(name);
  if (!keys.ok()) return keys.status();
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NoSuchApi(name);
  it->second.key_hashes.clear();
  for (const auto& key : *keys) it->second.key_hashes.push_back(key.hash);
  return OkStatus();
}

StatusOr<nlohmann::json> Controller::CreateKey(const std::string& name) {
  std::lock_guard deploy_lock(deploy_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = apis_.find(name);
    if (it == apis_.end()) return NoSuchApi(name);
    if (!it->second.spec.RunsReplicas()) {
      return InvalidArgument("api " + name +
                             " is a TrafficSplitter: a request to it needs a key "
                             "of the API it is sent to (axon keys create THAT_API)");
    }
  }
  const std::string key = "axk_" + RandomHex(24);
  const StoredKey stored{
      .api = name, .id = key.substr(0, 12), .hash = Sha256Hex(key), .created_at = UnixNow()};
  if (Status s = store_.AddKey(stored); !s.ok()) return s;
  if (Status s = RefreshKeys(name); !s.ok()) return s;
  spdlog::info("api {}: key {} created", name, stored.id);
  return nlohmann::json{{"api", name}, {"id", stored.id}, {"key", key}};
}

StatusOr<nlohmann::json> Controller::ListKeys(const std::string& name) const {
  {
    std::lock_guard lock(mu_);
    if (!apis_.contains(name)) return NoSuchApi(name);
  }
  auto keys = store_.Keys(name);
  if (!keys.ok()) return keys.status();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& key : *keys) out.push_back({{"id", key.id}, {"created_at", key.created_at}});
  return out;
}

Status Controller::RevokeKey(const std::string& name, const std::string& id) {
  std::lock_guard deploy_lock(deploy_mu_);
  {
    std::lock_guard lock(mu_);
    if (!apis_.contains(name)) return NoSuchApi(name);
  }
  if (Status s = store_.RevokeKey(name, id); !s.ok()) return s;
  spdlog::info("api {}: key {} revoked", name, id);
  return RefreshKeys(name);
}

void Controller::Tick() {
  contract::GatewayStats stats = gateway_.Stats(samples_seen_unix_ms_);
  AddQueueDemand(stats);
  Autoscale(stats);
  SampleHistory(stats);
  {
    std::lock_guard lock(mu_);
    ApplyTargetsLocked();
  }
  backend_.Reconcile();
  contract::RouteTable routes;
  {
    std::lock_guard lock(mu_);
    routes = RoutesLocked();
  }
  backend_.RoutesPublished(gateway_.Sync(routes));
}

void Controller::ApplyTargetsLocked() {
  for (const auto& [name, api] : apis_) {
    if (api.spec.ScalesReplicas()) backend_.Apply(api.Target());
  }
}

std::pair<std::string, std::string> Controller::StatusLocked(const ApiRuntime& api,
                                                             const ApiObservation& observed) const {
  if (!api.spec.RunsReplicas()) {
    SplitterState state = SplitterStatus(api.spec, apis_);
    return {std::move(state.status), std::move(state.reason)};
  }
  return {api.Status(observed), observed.error.substr(0, observed.error.find('\n'))};
}

contract::RouteTable Controller::RoutesLocked() const {
  contract::RouteTable table;
  for (const auto& [name, api] : apis_) {
    const ApiObservation observed =
        api.spec.RunsReplicas() ? backend_.Observe(name) : ApiObservation{};
    const auto& net = api.spec.networking;
    contract::ApiRoute route{
        .name = name,
        .endpoint = net.endpoint,
        .version = api.version,
        .status = StatusLocked(api, observed).first,
        .max_replica_concurrency = api.spec.autoscaling.max_replica_concurrency,
        .max_queue_length = api.spec.autoscaling.max_queue_length,
        .timeout_ms = (net.timeout.count() > 0 ? net.timeout : options_.request_timeout).count(),
        .hold_timeout_ms = options_.hold_timeout.count(),
        .max_held = options_.max_held,
        .start_failing = observed.start_failing,
        .api_key_hashes = api.key_hashes,
        .api_keys_required = net.api_keys};
    if (api.spec.logging.requests) {
      route.request_log = options_.home.ApiLog(name).string();
      route.request_log_per_million =
          std::max<int64_t>(1, std::llround(api.spec.logging.sample * 1'000'000));
    }
    AddSplit(api.spec, &route);
    if (api.spec.IsAsync() || api.spec.RunsJobs()) {
      SetAsyncRouteLocked(api, &route);
      table.apis.push_back(std::move(route));
      continue;
    }
    route.many_models = !api.spec.predictor.multi_model.empty();
    for (const auto& r : observed.replicas) {
      if (r.state != ReplicaState::kReady) continue;
      route.replicas.push_back(
          {.id = r.id, .version = r.version, .host = r.host, .port = r.port, .socket = r.socket});
    }
    table.apis.push_back(std::move(route));
  }
  return table;
}

}  // namespace axon::operator_
