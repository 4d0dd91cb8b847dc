// Durable desired state of the platform in SQLite (WAL) under $AXON_HOME: the APIs, the last
// kKeptVersions versions of each (what `axon rollback` can reach), the replicas the operator
// runs (so that a restarted operator adopts them), and the API keys (hashed). Survives
// operator restarts, SIGKILL and `axon down`: every change is one transaction.
//
// Errors are values: a failed prepare or step (a full disk, a corrupt file) is a Status, never
// an empty list.
//
// Threading: all methods are safe to call from any thread (one connection, one mutex). Each
// call blocks on SQLite (milliseconds; up to 5 s while another process holds the database).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace axon::operator_ {

// Versions kept per API; older ones are forgotten (and their bundles collected).
constexpr int64_t kKeptVersions = 10;

struct StoredApi {
  std::string name;
  int64_t version = 0;       // increases with every change to the spec or predictor files
  std::string spec_json;     // spec::ToJson of the version, paths pointing into its bundle
  std::string content_hash;  // of the spec and the bundle: equal hash, same version
  std::string bundle;        // the bundle (content hash of the predictor's folder) it runs
  int64_t updated_at = 0;    // unix seconds of the deploy that made it
};

// A replica process the operator runs, saved so that a restarted operator can adopt it.
struct StoredReplica {
  std::string id;
  std::string api;
  int64_t version = 0;
  int64_t pid = 0;
  int64_t start_time = 0;  // the process's start time (ProcessStartTime): tells a recycled pid
  int64_t port = 0;
  std::string socket;
  std::string state_dir;
  int64_t restarts = 0;
  bool operator==(const StoredReplica&) const = default;
};

// An API key: only its SHA-256 is kept; `id` is the key's first characters, for listing and
// revoking.
struct StoredKey {
  std::string api;
  std::string id;
  std::string hash;
  int64_t created_at = 0;
};

enum class DeployAction { kCreated, kUpdated, kUnchanged };

class StateStore {
 public:
  // Opens (creating it if needed) and checks the database; a file that is not a database or
  // fails SQLite's integrity check is an error that says so and how to recover.
  static StatusOr<std::unique_ptr<StateStore>> Open(const std::filesystem::path& file);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Saves each API as a new version unless its content_hash is unchanged, filling in
  // version and updated_at; forgets versions beyond kKeptVersions. All of `apis` are saved in
  // one transaction, or none.
  StatusOr<std::vector<DeployAction>> Deploy(std::vector<StoredApi>& apis);
  // Forgets the API with its versions and keys.
  Status Delete(const std::string& name);
  StatusOr<std::vector<StoredApi>> List() const;
  // The kept versions of one API, oldest first.
  StatusOr<std::vector<StoredApi>> History(const std::string& name) const;
  // Every bundle that a kept version of any API runs.
  StatusOr<std::set<std::string>> ReferencedBundles() const;

  // Replaces the saved set of running replicas with `replicas`.
  Status SaveReplicas(const std::vector<StoredReplica>& replicas);
  StatusOr<std::vector<StoredReplica>> Replicas() const;

  Status AddKey(const StoredKey& key);
  StatusOr<std::vector<StoredKey>> Keys(const std::string& api) const;
  // NotFound when the API has no key with that id.
  Status RevokeKey(const std::string& api, const std::string& id);

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql) const;
  Status Migrate();
  StatusOr<std::optional<StoredApi>> FindLocked(const std::string& name) const;
  StatusOr<std::vector<StoredApi>> QueryApis(const char* sql, const std::string* name) const;

  mutable std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
};

}  // namespace axon::operator_
