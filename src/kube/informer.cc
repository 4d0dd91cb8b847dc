#include "kube/informer.h"

#include <thread>

#include <spdlog/spdlog.h>

namespace axon::kube {
namespace {

std::string MetaString(const Json& object, const char* key) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string ObjectKey(const Json& object) {
  const std::string ns = MetaString(object, "namespace");
  const std::string name = MetaString(object, "name");
  return ns.empty() ? name : ns + "/" + name;
}

Informer::Informer(Client* client, InformerOptions options, ChangeHandler handler, Sleeper* sleeper)
    : client_(client),
      options_(std::move(options)),
      handler_(std::move(handler)),
      own_sleeper_(sleeper == nullptr ? std::make_unique<RealSleeper>() : nullptr),
      sleeper_(sleeper == nullptr ? own_sleeper_.get() : sleeper) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  stopping_.store(true);
  sleeper_->Wake();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (watch_ != nullptr) watch_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, Json> Informer::Cache() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_;
}

std::optional<Json> Informer::Find(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(ns.empty() ? name : ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

InformerStats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool Informer::Backoff(int failures) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.failures;
  }
  return !stopping_.load() && sleeper_->Sleep(options_.backoff.Delay(failures));
}

void Informer::Apply(ChangeType type, const Json& object) {
  const std::string key = ObjectKey(object);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (type == ChangeType::kDeleted) {
      cache_.erase(key);
    } else {
      cache_[key] = object;
    }
  }
  handler_(type, object);
}

bool Informer::Relist() {
  auto list = client_->List(options_.collection_path, {.label_selector = options_.label_selector});
  if (!list.ok()) {
    spdlog::warn("list {}: {}", options_.collection_path, list.status().message());
    return false;
  }
  std::map<std::string, Json> fresh;
  for (Json& item : list->items) fresh.emplace(ObjectKey(item), std::move(item));
  const std::map<std::string, Json> old = Cache();
  for (const auto& [key, object] : old) {
    if (!fresh.contains(key)) Apply(ChangeType::kDeleted, object);
  }
  for (const auto& [key, object] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      Apply(ChangeType::kAdded, object);
    } else if (MetaString(it->second, "resourceVersion") != MetaString(object, "resourceVersion")) {
      Apply(ChangeType::kModified, object);
    }
  }
  resource_version_ = list->resource_version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.lists;
    stats_.resource_version = resource_version_;
  }
  synced_.store(true);
  return true;
}

bool Informer::WatchOnce(bool* gone, bool* saw_event) {
  ApiStatus refusal;
  auto watch = client_->Watch(options_.collection_path,
                              {.label_selector = options_.label_selector,
                               .resource_version = resource_version_,
                               .timeout_seconds = options_.watch_timeout_seconds},
                              &refusal);
  if (!watch.ok()) {
    *gone = refusal.code == 410;
    if (!*gone) spdlog::warn("{}", watch.status().message());
    return *gone;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    watch_ = watch->get();
    ++stats_.watches;
  }
  bool ok = true;
  while (!stopping_.load()) {
    auto event = (*watch)->Next(options_.idle_timeout);
    if (!event.ok()) {
      if (!stopping_.load()) spdlog::warn("{}", event.status().message());
      ok = false;
      break;
    }
    if (!event->has_value()) break;  // the server's timeout: watch again from here
    const WatchEvent& e = **event;
    if (e.type == WatchEventType::kError) {
      const ApiStatus status = ParseApiStatus(0, e.object.dump());
      *gone = status.code == 410;
      if (!*gone)
        spdlog::warn("watch {}: error event: {}", options_.collection_path, status.message);
      ok = *gone;
      break;
    }
    *saw_event = true;
    const std::string rv = MetaString(e.object, "resourceVersion");
    if (e.type != WatchEventType::kBookmark) {
      Apply(e.type == WatchEventType::kAdded      ? ChangeType::kAdded
            : e.type == WatchEventType::kModified ? ChangeType::kModified
                                                  : ChangeType::kDeleted,
            e.object);
    }
    if (!rv.empty()) resource_version_ = rv;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.resource_version = resource_version_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  watch_ = nullptr;
  return ok;
}

void Informer::Run() {
  int failures = 0;
  bool need_list = true;
  while (!stopping_.load()) {
    if (need_list) {
      if (!Relist()) {
        if (!Backoff(++failures)) return;
        continue;
      }
      need_list = false;
    }
    bool gone = false;
    bool saw_event = false;
    const bool ok = WatchOnce(&gone, &saw_event);
    if (gone) {
      need_list = true;  // too old: list again at once
      continue;
    }
    // A healthy watch that ended on the server's timeout is restarted at once; a failed or
    // empty one waits, so that a server that keeps cutting us off is not hammered.
    if (ok && saw_event) {
      failures = 0;
      continue;
    }
    if (saw_event) failures = 0;
    if (!Backoff(++failures)) return;
  }
}

bool Informer::WaitForSync(Millis timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!synced() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return synced();
}

}  // namespace axon::kube
