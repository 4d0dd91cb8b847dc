// Durable desired state of the platform: the APIs and every version each has had, in SQLite
// (WAL) under $AXON_HOME. Survives operator restarts and `axon down`.
//
// Threading: all methods are safe to call from any thread (one connection, one mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace axon::operator_ {

struct StoredApi {
  std::string name;
  int64_t version = 0;       // increases with every change to the spec or predictor files
  std::string spec_json;     // spec::ToJson of the current version
  std::string content_hash;  // of the spec and the predictor's files
  int64_t updated_at = 0;    // unix seconds of the last deploy that changed it
};

// A replica process the operator runs, saved so that a restarted operator can adopt it.
struct StoredReplica {
  std::string id;
  std::string api;
  int64_t version = 0;
  int64_t pid = 0;
  int64_t port = 0;
  std::string socket;
  std::string state_dir;
  int64_t restarts = 0;
  bool operator==(const StoredReplica&) const = default;
};

enum class DeployAction { kCreated, kUpdated, kUnchanged };

class StateStore {
 public:
  static StatusOr<std::unique_ptr<StateStore>> Open(const std::filesystem::path& file);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Saves `api` as a new version unless its content_hash is unchanged. Fills in api.version
  // and api.updated_at. All of `apis` are saved in one transaction, or none.
  StatusOr<std::vector<DeployAction>> Deploy(std::vector<StoredApi>& apis);
  Status Delete(const std::string& name);
  std::vector<StoredApi> List() const;
  // Every stored version of one API, oldest first.
  std::vector<StoredApi> History(const std::string& name) const;

  // Replaces the saved set of running replicas with `replicas`.
  Status SaveReplicas(const std::vector<StoredReplica>& replicas);
  std::vector<StoredReplica> Replicas() const;

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql) const;
  std::optional<StoredApi> FindLocked(const std::string& name) const;

  mutable std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
};

}  // namespace axon::operator_
