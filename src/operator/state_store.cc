#include "operator/state_store.h"

#include <chrono>

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

// A prepared statement that finalizes itself and keeps the first error it meets.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) Fail();
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, const std::string& s) {
    if (stmt_ != nullptr) {
      sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // True with a row to read; false at the end or on an error (see status()).
  bool Next() {
    if (!status_.ok()) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) Fail();
    return false;
  }
  // Runs a statement that returns no rows.
  Status Run() {
    if (status_.ok() && sqlite3_step(stmt_) != SQLITE_DONE) Fail();
    return status_;
  }
  const Status& status() const { return status_; }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  StoredApi Api() const { return {Text(0), Int(1), Text(2), Text(3), Text(5), Int(4)}; }

 private:
  void Fail() { status_ = Internal(std::string("state store: ") + sqlite3_errmsg(db_)); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Unreadable(const std::filesystem::path& file, const std::string& why) {
  return Internal("the state store " + file.string() + " is unreadable (" + why +
                  "). Move it aside (mv " + file.string() + " " + file.string() +
                  ".broken) to start with no APIs, or put back a copy you trust");
}

// Runs `body` in one immediate transaction: committed if it returns OK, rolled back otherwise.
template <typename Body>
Status Transaction(sqlite3* db, Body body) {
  if (Status s = Statement(db, "BEGIN IMMEDIATE").Run(); !s.ok()) return s;
  Status s = body();
  if (s.ok()) s = Statement(db, "COMMIT").Run();
  if (!s.ok()) (void)Statement(db, "ROLLBACK").Run();
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal("cannot open state store " + file.string() + ": " + why);
  }
  std::unique_ptr<StateStore> store(new StateStore(db));
  sqlite3_busy_timeout(db, 5000);
  if (Status s = store->Exec("PRAGMA journal_mode=WAL;"); !s.ok()) {
    return Unreadable(file, s.message());
  }
  {
    Statement check(db, "PRAGMA quick_check");
    const bool row = check.Next();
    if (!check.status().ok()) return Unreadable(file, check.status().message());
    if (!row || check.Text(0) != "ok") return Unreadable(file, "integrity check: " + check.Text(0));
  }
  if (Status s = store->Migrate(); !s.ok()) return Unreadable(file, s.message());
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error != nullptr ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    return Internal("state store: " + why);
  }
  return OkStatus();
}

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
