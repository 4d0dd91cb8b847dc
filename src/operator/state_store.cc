#include "operator/state_store.h"

#include <chrono>

namespace axon::operator_ {
namespace {

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS apis (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS api_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version));
  CREATE TABLE IF NOT EXISTS replicas (
    id TEXT PRIMARY KEY,
    api TEXT NOT NULL,
    version INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    port INTEGER NOT NULL,
    socket TEXT NOT NULL,
    state_dir TEXT NOT NULL,
    restarts INTEGER NOT NULL);
)sql";

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  bool Step() { return sqlite3_step(stmt_) == SQLITE_ROW; }
  bool Done() { return sqlite3_step(stmt_) == SQLITE_DONE; }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  StoredApi Api() const { return {Text(0), Int(1), Text(2), Text(3), Int(4)}; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  if (Status s = store->Exec("PRAGMA journal_mode=WAL;"); !s.ok()) return s;
  if (Status s = store->Exec(kSchema); !s.ok()) return s;
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return Internal("state store: " + why);
  }
  return OkStatus();
}

std::optional<StoredApi> StateStore::FindLocked(const std::string& name) const {
  Statement q(db_,
              "SELECT name, version, spec_json, content_hash, updated_at FROM apis WHERE name=?");
  q.Bind(1, name);
  if (!q.Step()) return std::nullopt;
  return q.Api();
}

StatusOr<std::vector<DeployAction>> StateStore::Deploy(std::vector<StoredApi>& apis) {
  std::lock_guard lock(mu_);
  if (Status s = Exec("BEGIN IMMEDIATE;"); !s.ok()) return s;
  std::vector<DeployAction> actions;
  const int64_t now = UnixNow();
  for (auto& api : apis) {
    const auto existing = FindLocked(api.name);
    if (existing && existing->content_hash == api.content_hash) {
      api = *existing;
      actions.push_back(DeployAction::kUnchanged);
      continue;
    }
    Statement max_version(db_, "SELECT COALESCE(MAX(version), 0) FROM api_versions WHERE name=?");
    max_version.Bind(1, api.name);
    api.version = max_version.Step() ? max_version.Int(0) + 1 : 1;
    api.updated_at = now;
    Statement upsert(db_,
                     "INSERT OR REPLACE INTO apis (name, version, spec_json, content_hash, "
                     "updated_at) VALUES (?, ?, ?, ?, ?)");
    upsert.Bind(1, api.name).Bind(2, api.version).Bind(3, api.spec_json);
    upsert.Bind(4, api.content_hash).Bind(5, now);
    Statement history(db_,
                      "INSERT OR REPLACE INTO api_versions (name, version, spec_json, "
                      "content_hash, created_at) VALUES (?, ?, ?, ?, ?)");
    history.Bind(1, api.name).Bind(2, api.version).Bind(3, api.spec_json);
    history.Bind(4, api.content_hash).Bind(5, now);
    if (!upsert.Done() || !history.Done()) {
      std::string why = sqlite3_errmsg(db_);
      (void)Exec("ROLLBACK;");
      return Internal("state store: cannot save api " + api.name + ": " + why);
    }
    actions.push_back(existing ? DeployAction::kUpdated : DeployAction::kCreated);
  }
  if (Status s = Exec("COMMIT;"); !s.ok()) return s;
  return actions;
}

Status StateStore::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  Statement del(db_, "DELETE FROM apis WHERE name=?");
  del.Bind(1, name);
  if (!del.Done()) return Internal(std::string("state store: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0 ? OkStatus() : NotFound("no api named " + name);
}

std::vector<StoredApi> StateStore::List() const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT name, version, spec_json, content_hash, updated_at FROM apis ORDER BY name");
  std::vector<StoredApi> out;
  while (q.Step()) out.push_back(q.Api());
  return out;
}

std::vector<StoredApi> StateStore::History(const std::string& name) const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT name, version, spec_json, content_hash, created_at FROM api_versions "
              "WHERE name=? ORDER BY version");
  q.Bind(1, name);
  std::vector<StoredApi> out;
  while (q.Step()) out.push_back(q.Api());
  return out;
}

Status StateStore::SaveReplicas(const std::vector<StoredReplica>& replicas) {
  std::lock_guard lock(mu_);
  if (Status s = Exec("BEGIN IMMEDIATE; DELETE FROM replicas;"); !s.ok()) return s;
  for (const auto& r : replicas) {
    Statement insert(db_,
                     "INSERT INTO replicas (id, api, version, pid, port, socket, state_dir, "
                     "restarts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    insert.Bind(1, r.id).Bind(2, r.api).Bind(3, r.version).Bind(4, r.pid).Bind(5, r.port);
    insert.Bind(6, r.socket).Bind(7, r.state_dir).Bind(8, r.restarts);
    if (!insert.Done()) {
      std::string why = sqlite3_errmsg(db_);
      (void)Exec("ROLLBACK;");
      return Internal("state store: cannot save replica " + r.id + ": " + why);
    }
  }
  return Exec("COMMIT;");
}

std::vector<StoredReplica> StateStore::Replicas() const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT id, api, version, pid, port, socket, state_dir, restarts FROM replicas "
              "ORDER BY id");
  std::vector<StoredReplica> out;
  while (q.Step()) {
    out.push_back(
        {q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4), q.Text(5), q.Text(6), q.Int(7)});
  }
  return out;
}

}  // namespace axon::operator_
