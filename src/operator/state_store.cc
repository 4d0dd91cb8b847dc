#include "operator/state_store.h"

#include <chrono>

#include "store/sqlite.h"

namespace axon::operator_ {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS apis (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    bundle TEXT NOT NULL DEFAULT '');
  CREATE TABLE IF NOT EXISTS api_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    bundle TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version));
  CREATE TABLE IF NOT EXISTS replicas (
    id TEXT PRIMARY KEY,
    api TEXT NOT NULL,
    version INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    port INTEGER NOT NULL,
    socket TEXT NOT NULL,
    state_dir TEXT NOT NULL,
    restarts INTEGER NOT NULL,
    start_time INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS api_counters (
    name TEXT PRIMARY KEY,
    last_version INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS api_keys (
    api TEXT NOT NULL,
    id TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (api, id));
)sql";

// Columns added since the first schema: (table, column, definition).
constexpr const char* kAddedColumns[][3] = {
    {"apis", "bundle", "TEXT NOT NULL DEFAULT ''"},
    {"api_versions", "bundle", "TEXT NOT NULL DEFAULT ''"},
    {"replicas", "start_time", "INTEGER NOT NULL DEFAULT 0"},
};

constexpr char kWhat[] = "state store";

// A statement on the state store (errors say "state store: ...").
class Statement : public store::Statement {
 public:
  Statement(sqlite3* db, const char* sql) : store::Statement(db, sql, kWhat) {}
  StoredApi Api() const { return {Text(0), Int(1), Text(2), Text(3), Text(5), Int(4)}; }
};

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using store::Transaction;

}  // namespace

StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::filesystem::path& file) {
  auto db = store::OpenDatabase(file, "the state store");
  if (!db.ok()) return db.status();
  std::unique_ptr<StateStore> state(new StateStore(*db));
  if (Status s = state->Migrate(); !s.ok()) {
    return store::Unreadable(file, "the state store", s.message());
  }
  return state;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) const { return store::Exec(db_, sql, kWhat); }

// Brings a database made by an earlier Axon up to kSchemaVersion.
Status StateStore::Migrate() {
  if (Status s = Exec(kSchema); !s.ok()) return s;
  Statement version(db_, "PRAGMA user_version");
  if (!version.Next()) return version.status();
  if (version.Int(0) >= kSchemaVersion) return OkStatus();
  for (const auto& [table, column, definition] : kAddedColumns) {
    Statement has(db_, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?");
    has.Bind(1, std::string(table)).Bind(2, std::string(column));
    if (!has.Next()) return has.status();
    if (has.Int(0) > 0) continue;
    const std::string alter =
        std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + definition;
    if (Status s = Exec(alter.c_str()); !s.ok()) return s;
  }
  return Exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
}

StatusOr<std::optional<StoredApi>> StateStore::FindLocked(const std::string& name) const {
  Statement q(db_,
              "SELECT name, version, spec_json, content_hash, updated_at, bundle FROM apis "
              "WHERE name=?");
  q.Bind(1, name);
  if (q.Next()) return std::optional<StoredApi>(q.Api());
  if (!q.status().ok()) return q.status();
  return std::optional<StoredApi>();
}

StatusOr<std::vector<DeployAction>> StateStore::Deploy(std::vector<StoredApi>& apis) {
  std::lock_guard lock(mu_);
  std::vector<DeployAction> actions;
  std::vector<StoredApi> saved = apis;
  const int64_t now = UnixNow();
  Status s = Transaction(db_, [&]() -> Status {
    for (auto& api : saved) {
      auto existing = FindLocked(api.name);
      if (!existing.ok()) return existing.status();
      if (*existing && (*existing)->content_hash == api.content_hash) {
        api = **existing;
        actions.push_back(DeployAction::kUnchanged);
        continue;
      }
      // Versions keep counting across a delete and a new deploy of the same name.
      Statement max_version(db_,
                            "SELECT MAX(COALESCE((SELECT MAX(version) FROM api_versions WHERE "
                            "name=?1), 0), COALESCE((SELECT last_version FROM api_counters WHERE "
                            "name=?1), 0))");
      max_version.Bind(1, api.name);
      if (!max_version.Next()) return max_version.status();
      api.version = max_version.Int(0) + 1;
      api.updated_at = now;
      Statement upsert(db_,
                       "INSERT OR REPLACE INTO apis (name, version, spec_json, content_hash, "
                       "updated_at, bundle) VALUES (?, ?, ?, ?, ?, ?)");
      upsert.Bind(1, api.name).Bind(2, api.version).Bind(3, api.spec_json);
      upsert.Bind(4, api.content_hash).Bind(5, now).Bind(6, api.bundle);
      Statement history(db_,
                        "INSERT OR REPLACE INTO api_versions (name, version, spec_json, "
                        "content_hash, created_at, bundle) VALUES (?, ?, ?, ?, ?, ?)");
      history.Bind(1, api.name).Bind(2, api.version).Bind(3, api.spec_json);
      history.Bind(4, api.content_hash).Bind(5, now).Bind(6, api.bundle);
      Statement prune(db_, "DELETE FROM api_versions WHERE name=? AND version <= ?");
      prune.Bind(1, api.name).Bind(2, api.version - kKeptVersions);
      Statement counter(db_,
                        "INSERT OR REPLACE INTO api_counters (name, last_version) VALUES (?, ?)");
      counter.Bind(1, api.name).Bind(2, api.version);
      for (Statement* step : {&upsert, &history, &prune, &counter}) {
        if (Status r = step->Run(); !r.ok()) {
          return Internal("state store: cannot save api " + api.name + ": " + r.message());
        }
      }
      actions.push_back(existing->has_value() ? DeployAction::kUpdated : DeployAction::kCreated);
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  apis = std::move(saved);
  return actions;
}

Status StateStore::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  bool found = false;
  Status s = Transaction(db_, [&]() -> Status {
    Statement del(db_, "DELETE FROM apis WHERE name=?");
    del.Bind(1, name);
    if (Status r = del.Run(); !r.ok()) return r;
    found = sqlite3_changes(db_) > 0;
    Statement versions(db_, "DELETE FROM api_versions WHERE name=?");
    versions.Bind(1, name);
    Statement keys(db_, "DELETE FROM api_keys WHERE api=?");
    keys.Bind(1, name);
    if (Status r = versions.Run(); !r.ok()) return r;
    return keys.Run();
  });
  if (!s.ok()) return s;
  return found ? OkStatus() : NotFound("no api named " + name);
}

StatusOr<std::vector<StoredApi>> StateStore::QueryApis(const char* sql,
                                                       const std::string* name) const {
  Statement q(db_, sql);
  if (name != nullptr) q.Bind(1, *name);
  std::vector<StoredApi> out;
  while (q.Next()) out.push_back(q.Api());
  if (!q.status().ok()) return q.status();
  return out;
}

StatusOr<std::vector<StoredApi>> StateStore::List() const {
  std::lock_guard lock(mu_);
  return QueryApis(
      "SELECT name, version, spec_json, content_hash, updated_at, bundle FROM apis ORDER BY name",
      nullptr);
}

StatusOr<std::vector<StoredApi>> StateStore::History(const std::string& name) const {
  std::lock_guard lock(mu_);
  return QueryApis(
      "SELECT name, version, spec_json, content_hash, created_at, bundle FROM api_versions "
      "WHERE name=? ORDER BY version",
      &name);
}

StatusOr<std::set<std::string>> StateStore::ReferencedBundles() const {
  std::lock_guard lock(mu_);
  Statement q(db_, "SELECT bundle FROM apis UNION SELECT bundle FROM api_versions");
  std::set<std::string> out;
  while (q.Next()) out.insert(q.Text(0));
  if (!q.status().ok()) return q.status();
  out.erase("");
  return out;
}

Status StateStore::SaveReplicas(const std::vector<StoredReplica>& replicas) {
  std::lock_guard lock(mu_);
  return Transaction(db_, [&]() -> Status {
    if (Status s = Statement(db_, "DELETE FROM replicas").Run(); !s.ok()) return s;
    for (const auto& r : replicas) {
      Statement insert(db_,
                       "INSERT INTO replicas (id, api, version, pid, port, socket, state_dir, "
                       "restarts, start_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      insert.Bind(1, r.id).Bind(2, r.api).Bind(3, r.version).Bind(4, r.pid).Bind(5, r.port);
      insert.Bind(6, r.socket).Bind(7, r.state_dir).Bind(8, r.restarts).Bind(9, r.start_time);
      if (Status s = insert.Run(); !s.ok()) {
        return Internal("state store: cannot save replica " + r.id + ": " + s.message());
      }
    }
    return OkStatus();
  });
}

StatusOr<std::vector<StoredReplica>> StateStore::Replicas() const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT id, api, version, pid, start_time, port, socket, state_dir, restarts "
              "FROM replicas ORDER BY id");
  std::vector<StoredReplica> out;
  while (q.Next()) {
    out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4), q.Int(5), q.Text(6),
                   q.Text(7), q.Int(8)});
  }
  if (!q.status().ok()) return q.status();
  return out;
}

Status StateStore::AddKey(const StoredKey& key) {
  std::lock_guard lock(mu_);
  Statement insert(db_, "INSERT INTO api_keys (api, id, hash, created_at) VALUES (?, ?, ?, ?)");
  insert.Bind(1, key.api).Bind(2, key.id).Bind(3, key.hash).Bind(4, key.created_at);
  return insert.Run();
}

StatusOr<std::vector<StoredKey>> StateStore::Keys(const std::string& api) const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT api, id, hash, created_at FROM api_keys WHERE api=? ORDER BY created_at");
  q.Bind(1, api);
  std::vector<StoredKey> out;
  while (q.Next()) out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Int(3)});
  if (!q.status().ok()) return q.status();
  return out;
}

Status StateStore::RevokeKey(const std::string& api, const std::string& id) {
  std::lock_guard lock(mu_);
  Statement del(db_, "DELETE FROM api_keys WHERE api=? AND id=?");
  del.Bind(1, api).Bind(2, id);
  if (Status s = del.Run(); !s.ok()) return s;
  return sqlite3_changes(db_) > 0
             ? OkStatus()
             : NotFound("api " + api + " has no key " + id + " (see `axon keys list " + api + "`)");
}

}  // namespace axon::operator_
