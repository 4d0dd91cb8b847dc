#include "replica/native_model_cache.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include <spdlog/spdlog.h>

namespace axon::replica {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kPollInterval{1};

std::optional<int64_t> VersionNumber(std::string_view name) {
  if (name.empty() || name.size() > 18 ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(std::string(name));
}

// {version: path} of the model at `path`: its numbered version folders, or {0: path} when it
// has none; {} when it is gone.
std::map<int64_t, fs::path> ScanModel(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {{0, path}};
  if (!fs::is_directory(path, ec)) return {};
  std::map<int64_t, fs::path> versions;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::error_code entry_ec;
    if (!entry.is_directory(entry_ec)) continue;
    if (auto n = VersionNumber(entry.path().filename().string())) versions[*n] = entry.path();
  }
  if (versions.empty()) versions[0] = path;
  return versions;
}

std::string Names(const ModelVersions& models) {
  std::string out;
  for (const auto& [name, versions] : models) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

ModelVersions ScanModels(const spec::MultiModelSpec& spec) {
  ModelVersions found;
  std::error_code ec;
  if (!spec.dir.empty()) {
    for (const auto& entry : fs::directory_iterator(spec.dir, ec)) {
      const std::string name = entry.path().filename().string();
      std::error_code entry_ec;
      if (name.starts_with('.') || !entry.is_directory(entry_ec)) continue;
      if (auto versions = ScanModel(entry.path()); !versions.empty()) found[name] = versions;
    }
  }
  for (const auto& model : spec.paths) {
    auto versions = ScanModel(model.path);
    if (versions.empty()) {
      found.erase(model.name);
    } else {
      found[model.name] = std::move(versions);
    }
  }
  return found;
}

NativeModelCache::NativeModelCache(spec::MultiModelSpec spec, Loader load, std::string replica)
    : spec_(std::move(spec)), load_(std::move(load)), replica_(std::move(replica)) {
  known_ = ScanModels(spec_);
  for (const auto& [name, versions] : known_) latest_[name] = versions.rbegin()->first;
}

NativeModelCache::~NativeModelCache() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void NativeModelCache::Start() {
  watcher_ = std::thread([this] {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, kPollInterval, [this] { return stop_; })) {
      lock.unlock();
      Refresh();
      lock.lock();
    }
  });
}

StatusOr<std::string> NativeModelCache::PickName(std::string_view name) const {
  if (name.empty()) {
    if (known_.size() == 1) return known_.begin()->first;
    return InvalidArgument("name a model: this API serves several (" + Names(known_) +
                           "); ask for one with ?model=NAME");
  }
  if (!known_.contains(std::string(name))) {
    const std::string served = known_.empty() ? "none yet" : Names(known_);
    return NotFound("no model named " + nlohmann::json(std::string(name)).dump() +
                    "; this API serves: " + served);
  }
  return std::string(name);
}

StatusOr<int64_t> NativeModelCache::PickVersion(const std::string& name,
                                                std::string_view version) const {
  if (version.empty() || version == "latest") return latest_.at(name);
  const std::optional<int64_t> number = VersionNumber(version);
  if (!number || *number < 1) {
    return InvalidArgument("a model version is a whole number >= 1, such as 2, got " +
                           nlohmann::json(std::string(version)).dump());
  }
  const auto& versions = known_.at(name);
  if (!versions.contains(*number)) {
    std::string have;
    for (const auto& [v, path] : versions) {
      if (v > 0) have += (have.empty() ? "" : ", ") + std::to_string(v);
    }
    return NotFound("model \"" + name + "\" has no version " + std::to_string(*number) + "; " +
                    (have.empty() ? "it has no numbered versions" : "versions: " + have));
  }
  return *number;
}

void NativeModelCache::Touch(std::list<Entry>::iterator it) { lru_.splice(lru_.end(), lru_, it); }

StatusOr<std::shared_ptr<const LoadedModel>> NativeModelCache::Get(std::string_view name,
                                                                   std::string_view version) {
  std::unique_lock lock(mu_);
  Key key;
  for (;;) {  // chosen again after a wait: the folders may have changed meanwhile
    auto picked = PickName(name);
    if (!picked.ok()) return picked.status();
    auto number = PickVersion(*picked, version);
    if (!number.ok()) return number.status();
    key = {*picked, *number};
    if (!loading_.contains(key)) break;
    cv_.wait(lock);
  }
  if (auto it = loaded_.find(key); it != loaded_.end()) {
    Touch(it->second);
    return it->second->model;
  }
  const fs::path path = known_.at(key.first).at(key.second);
  loading_.insert(key);
  lock.unlock();
  return LoadAndCache(key, path, std::nullopt);
}

void NativeModelCache::Promote(const std::string& name, int64_t old, int64_t version,
                               std::vector<std::shared_ptr<const LoadedModel>>& dropped) {
  auto latest = latest_.find(name);
  if (latest == latest_.end() || latest->second >= version) return;
  latest->second = version;
  if (auto it = loaded_.find({name, old}); it != loaded_.end()) {
    dropped.push_back(std::move(it->second->model));
    lru_.erase(it->second);
    loaded_.erase(it);
  }
}

StatusOr<std::shared_ptr<const LoadedModel>> NativeModelCache::LoadAndCache(
    const Key& key, const fs::path& path, std::optional<int64_t> replaces) {
  const auto& [name, version] = key;
  auto model = load_(name, version, path);
  std::vector<std::shared_ptr<const LoadedModel>> dropped;  // freed after the mutex
  std::lock_guard lock(mu_);
  loading_.erase(key);
  cv_.notify_all();
  if (!model.ok()) {
    spdlog::error("loading model {} version {} failed: {}", name, version,
                  model.status().message());
    return Internal("loading model \"" + name + "\" version " + std::to_string(version) +
                    " failed: " + model.status().message());
  }
  // The folders may have dropped this version while it loaded: serve it to this caller only.
  if (!known_.contains(name) || !known_.at(name).contains(version)) return model;
  lru_.push_back({key, *model});
  loaded_[key] = std::prev(lru_.end());
  if (replaces) Promote(name, *replaces, version, dropped);
  while (spec_.cache_size > 0 && static_cast<int64_t>(lru_.size()) > spec_.cache_size) {
    dropped.push_back(std::move(lru_.front().model));
    loaded_.erase(lru_.front().key);
    lru_.pop_front();
  }
  return model;
}

NativeModelCache::Fingerprint NativeModelCache::FingerprintOf(const fs::path& path) {
  Fingerprint out;
  std::error_code ec;
  auto add = [&](const fs::path& file, std::string relative) {
    std::error_code file_ec;
    const uintmax_t size = fs::file_size(file, file_ec);
    const auto mtime = fs::last_write_time(file, file_ec);
    if (file_ec) return;
    out.emplace_back(std::move(relative), size, mtime.time_since_epoch().count());
  };
  if (fs::is_regular_file(path, ec)) {
    add(path, "");
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (it->is_regular_file(entry_ec)) add(it->path(), it->path().lexically_relative(path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void NativeModelCache::Refresh() {
  const ModelVersions found = ScanModels(spec_);
  ModelVersions known;
  {
    std::lock_guard lock(mu_);
    known = known_;
  }
  ModelVersions accepted;
  for (const auto& [name, versions] : found) {
    for (const auto& [version, path] : versions) {
      if (known.contains(name) && known.at(name).contains(version)) continue;
      Fingerprint fingerprint = FingerprintOf(path);
      auto pending = pending_.find({name, version});
      if (pending != pending_.end() && pending->second == fingerprint) {
        accepted[name][version] = path;
        pending_.erase(pending);
      } else {
        pending_[{name, version}] = std::move(fingerprint);
      }
    }
  }
  std::erase_if(pending_, [&](const auto& entry) {
    const auto& [name, version] = entry.first;
    return !found.contains(name) || !found.at(name).contains(version);
  });
  std::vector<std::tuple<std::string, int64_t, int64_t>> switches;  // name, old, new
  std::vector<std::shared_ptr<const LoadedModel>> dropped;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, versions] : known) {  // gone from disk
      for (const auto& [version, path] : versions) {
        if (found.contains(name) && found.at(name).contains(version)) continue;
        known_[name].erase(version);
        if (auto it = loaded_.find({name, version}); it != loaded_.end()) {
          dropped.push_back(std::move(it->second->model));
          lru_.erase(it->second);
          loaded_.erase(it);
        }
        if (known_[name].empty()) {
          known_.erase(name);
          latest_.erase(name);
        } else if (latest_[name] == version) {
          latest_[name] = known_[name].rbegin()->first;
        }
      }
    }
    for (const auto& [name, versions] : accepted) {
      auto& have = known_[name];
      have.insert(versions.begin(), versions.end());
      const int64_t newest = have.rbegin()->first;
      auto current = latest_.find(name);
      if (current == latest_.end()) {
        latest_[name] = newest;
      } else if (newest > current->second) {
        if (loaded_.contains({name, current->second})) {
          switches.emplace_back(name, current->second, newest);  // in use: load it first
        } else {
          current->second = newest;
        }
      }
    }
  }
  dropped.clear();
  for (const auto& [name, old, version] : switches) Switch(name, old, version);
}

void NativeModelCache::Switch(const std::string& name, int64_t old, int64_t version) {
  const Key key{name, version};
  fs::path path;
  {
    std::vector<std::shared_ptr<const LoadedModel>> dropped;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !loading_.contains(key); });
    if (!known_.contains(name) || !known_.at(name).contains(version)) return;
    if (loaded_.contains(key)) {  // a request asked for it by number already
      Promote(name, old, version, dropped);
      lock.unlock();
      return;
    }
    path = known_.at(name).at(version);
    loading_.insert(key);
  }
  Fingerprint fingerprint = FingerprintOf(path);
  if (auto failed = failed_.find(key); failed != failed_.end() && failed->second == fingerprint) {
    std::lock_guard lock(mu_);
    loading_.erase(key);
    cv_.notify_all();
    return;  // tried again when its files change
  }
  if (!LoadAndCache(key, path, old).ok()) failed_[key] = std::move(fingerprint);
}

nlohmann::json NativeModelCache::Describe() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::vector<int64_t>> loaded_versions;
  nlohmann::json loaded = nlohmann::json::array();
  for (const Entry& entry : lru_) {
    loaded_versions[entry.key.first].push_back(entry.key.second);
    loaded.push_back({{"name", entry.key.first}, {"version", entry.key.second}});
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [name, versions] : known_) {
    std::vector<int64_t> numbered;
    for (const auto& [v, path] : versions) {
      if (v > 0) numbered.push_back(v);
    }
    std::vector<int64_t> in_cache = loaded_versions[name];
    std::sort(in_cache.begin(), in_cache.end());
    models.push_back({{"name", name},
                      {"versions", numbered},
                      {"latest", latest_.at(name)},
                      {"loaded", in_cache}});
  }
  return {{"cache_size", spec_.cache_size},
          {"disk_cache_size", spec_.disk_cache_size},
          {"replica", replica_},
          {"models", std::move(models)},
          {"loaded", std::move(loaded)}};
}

}  // namespace axon::replica
