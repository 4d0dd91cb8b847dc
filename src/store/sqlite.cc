#include "store/sqlite.h"

namespace axon::store {

Statement::Statement(sqlite3* db, const char* sql, std::string_view what) : db_(db), what_(what) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) Fail();
}

Statement& Statement::Bind(int i, std::string_view text) {
  if (stmt_ != nullptr) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

Statement& Statement::BindBlob(int i, std::string_view bytes) {
  if (stmt_ != nullptr) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

Statement& Statement::Bind(int i, int64_t v) {
  if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

bool Statement::Next() {
  if (!status_.ok()) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) Fail();
  return false;
}

Status Statement::Run() {
  if (status_.ok() && sqlite3_step(stmt_) != SQLITE_DONE) Fail();
  return status_;
}

std::string Statement::Text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

void Statement::Fail() { status_ = Internal(what_ + ": " + sqlite3_errmsg(db_)); }

Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    return Internal(std::string(what) + ": " + why);
  }
  return OkStatus();
}

Status Unreadable(const std::filesystem::path& file, std::string_view what,
                  const std::string& why) {
  return Internal(std::string(what) + " " + file.string() + " is unreadable (" + why +
                  "). Move it aside (mv " + file.string() + " " + file.string() +
                  ".broken) to start without it, or put back a copy you trust");
}

StatusOr<sqlite3*> OpenDatabase(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal("cannot open " + std::string(what) + " " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  Status s = Exec(db, "PRAGMA journal_mode=WAL;", what);
  if (s.ok()) {
    Statement check(db, "PRAGMA quick_check", what);
    const bool row = check.Next();
    if (!check.status().ok()) {
      s = check.status();
    } else if (!row || check.Text(0) != "ok") {
      s = Internal("integrity check: " + check.Text(0));
    }
  }
  if (!s.ok()) {
    sqlite3_close(db);
    return Unreadable(file, what, s.message());
  }
  return db;
}

}  // namespace axon::store
