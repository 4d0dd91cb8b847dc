// Keeps a local copy of a collection in step with the API server, the way Kubernetes
// controllers do: list, then watch from the list's resourceVersion; follow BOOKMARKs; on
// 410 Gone (as an HTTP status or as an ERROR event: the resourceVersion is too old) list
// again and report the difference as events; on a broken stream or a failed call reconnect
// after a backoff (Backoff, with an injectable Sleeper).
//
// Threading: Start() runs the loop on a thread the Informer owns; the handler is called on
// that thread, one event at a time, and must not call Stop(). Cache(), Find(), synced() and
// stats() may be called from any thread. Stop() (or the destructor) cancels the watch, wakes
// the sleeper and joins the thread; a List() in flight finishes first (at most the client's
// call timeout). The Client and the Sleeper must outlive the Informer.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/backoff.h"
#include "kube/client.h"

namespace axon::kube {

enum class ChangeType { kAdded, kModified, kDeleted };
using ChangeHandler = std::function<void(ChangeType, const Json& object)>;

struct InformerOptions {
  std::string collection_path;  // e.g. CollectionPath(FindKind("v1", "Pod"), "axon")
  std::string label_selector;
  int watch_timeout_seconds = 300;
  // A watch silent for longer than this is treated as broken (bookmarks and the server's
  // timeout keep a healthy one from being silent this long).
  Millis idle_timeout{360'000};
  Backoff backoff;
};

struct InformerStats {
  int64_t lists = 0;             // full lists (the first one and every re-list)
  int64_t watches = 0;           // watches started
  int64_t failures = 0;          // failed calls and broken streams
  std::string resource_version;  // the last one seen
};

class Informer {
 public:
  // `sleeper` = null uses a RealSleeper of its own.
  Informer(Client* client, InformerOptions options, ChangeHandler handler,
           Sleeper* sleeper = nullptr);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();

  // True once the first list has been delivered to the handler.
  bool synced() const { return synced_.load(); }
  // Blocks until synced() or `timeout` passes (the API server unreachable); returns synced().
  bool WaitForSync(Millis timeout) const;
  // The objects as last seen, by "namespace/name".
  std::map<std::string, Json> Cache() const;
  std::optional<Json> Find(const std::string& ns, const std::string& name) const;
  InformerStats stats() const;

 private:
  void Run();
  // Lists and replaces the cache, reporting what changed. False on failure.
  bool Relist();
  // Watches from resource_version_ until the stream ends (true) or fails (false).
  bool WatchOnce(bool* gone, bool* saw_event);
  void Apply(ChangeType type, const Json& object);
  bool Backoff(int failures);

  Client* const client_;
  const InformerOptions options_;
  const ChangeHandler handler_;
  std::unique_ptr<RealSleeper> own_sleeper_;
  Sleeper* const sleeper_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::thread thread_;

  mutable std::mutex mu_;
  std::map<std::string, Json> cache_;  // guarded by mu_
  InformerStats stats_;                // guarded by mu_
  WatchStream* watch_ = nullptr;       // guarded by mu_: the watch in progress, for Stop()
  std::string resource_version_;       // Run()'s thread only
};

// "namespace/name" of an object ("name" for cluster-scoped ones).
std::string ObjectKey(const Json& object);

}  // namespace axon::kube
