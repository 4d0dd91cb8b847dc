// NativeModelCache: the models of a native predictor with predictor.models as a mapping (many
// models of one type, chosen per request). The native twin of backends/python/model_cache.py,
// with the same rules:
//
// - A model is a folder of numbered version folders (1/, 2/, ...), or, without them, a folder
//   or file that is its only version (version 0). `dir` and `paths` are read in place.
// - Get() loads a model version on first use; at most cache_size stay loaded (0: no limit),
//   the least recently used leaving first.
// - Refresh() rescans the folders (Start() runs it every second on a thread of its own). A new
//   version is taken once its files did not change between two scans; for a model that is
//   loaded, it is loaded first (on the refreshing thread), then served by default and the old
//   version leaves the cache in the same step, so no request waits for or fails on a switch.
//   A removed model or version is dropped.
//
// Threading: Get() and Describe() may be called from any number of threads at once; one mutex
// guards the state and is never held while a model loads; one version is loaded by one thread
// at a time (others asking for it wait for that load). Refresh() is called by one thread at a
// time (the watcher, or a test that has not called Start()). A model handed out stays valid
// for as long as its caller holds it, evicted or not.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "replica/model_loader.h"
#include "spec/api_spec.h"

namespace axon::replica {

// name -> {version: path} of the models of `spec` on disk now: the folders of `dir` (not
// those starting with "."), then `paths` (which win over a folder of the same name).
using ModelVersions = std::map<std::string, std::map<int64_t, std::filesystem::path>>;
ModelVersions ScanModels(const spec::MultiModelSpec& spec);

class NativeModelCache {
 public:
  // Loads version `version` of model `name` from `path` (a version folder, or the model's file
  // or folder for version 0). Called without the cache's mutex, from the thread of Get() or
  // Refresh().
  using Loader = std::function<StatusOr<std::shared_ptr<const LoadedModel>>(
      const std::string& name, int64_t version, const std::filesystem::path& path)>;

  // `replica`: its id, for Describe(). Scans the folders once.
  NativeModelCache(spec::MultiModelSpec spec, Loader load, std::string replica);
  NativeModelCache(const NativeModelCache&) = delete;
  NativeModelCache& operator=(const NativeModelCache&) = delete;
  ~NativeModelCache();  // stops the watcher

  // The model `name` ("" when the API has one model) in `version` ("" or "latest": the one
  // served by default). Errors: NotFound (unknown model or version), InvalidArgument (no name
  // among several, a malformed version), Internal (the load failed; the next call tries
  // again). Messages are fit for clients except Internal's, which name files.
  StatusOr<std::shared_ptr<const LoadedModel>> Get(std::string_view name, std::string_view version);

  void Refresh();
  void Start();  // a thread that calls Refresh() every second until destruction

  // {"cache_size", "disk_cache_size", "replica", "models": [{"name", "versions", "latest",
  // "loaded"}], "loaded": [{"name", "version"}] least recently used first}, as model_cache.py.
  nlohmann::json Describe() const;

 private:
  using Key = std::pair<std::string, int64_t>;
  using Fingerprint = std::vector<std::tuple<std::string, uintmax_t, int64_t>>;
  struct Entry {
    Key key;
    std::shared_ptr<const LoadedModel> model;
  };

  // Call with mu_ held.
  StatusOr<std::string> PickName(std::string_view name) const;
  StatusOr<int64_t> PickVersion(const std::string& name, std::string_view version) const;
  void Touch(std::list<Entry>::iterator it);
  // Serves `version` of `name` by default instead of `old`; moves `old`'s entry to `dropped`.
  void Promote(const std::string& name, int64_t old, int64_t version,
               std::vector<std::shared_ptr<const LoadedModel>>& dropped);

  // Loads `key` (marked loading by the caller) and caches it; with `replaces`, then serves it
  // by default instead of that version, which leaves the cache.
  StatusOr<std::shared_ptr<const LoadedModel>> LoadAndCache(const Key& key,
                                                            const std::filesystem::path& path,
                                                            std::optional<int64_t> replaces);
  void Switch(const std::string& name, int64_t old, int64_t version);
  static Fingerprint FingerprintOf(const std::filesystem::path& path);

  const spec::MultiModelSpec spec_;
  const Loader load_;
  const std::string replica_;

  mutable std::mutex mu_;
  std::condition_variable cv_;             // a load ended
  ModelVersions known_;                    // guarded by mu_: versions that may be served
  std::map<std::string, int64_t> latest_;  // guarded by mu_: the version served by default
  std::list<Entry> lru_;                   // guarded by mu_: least recently used first
  std::map<Key, std::list<Entry>::iterator> loaded_;  // guarded by mu_: into lru_
  std::set<Key> loading_;                             // guarded by mu_

  // Refresh()'s own (one caller at a time).
  std::map<Key, Fingerprint> pending_;  // versions seen once, by their files then
  std::map<Key, Fingerprint> failed_;   // versions whose background load failed, by their files

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread watcher_;
};

}  // namespace axon::replica
