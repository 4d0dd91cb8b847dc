// Small pieces shared by the SQLite stores: a prepared statement that finalizes itself and
// keeps the first error, an immediate transaction around a body, and opening a database file
// in WAL mode with an integrity check.
//
// Threading: a Statement belongs to the thread that made it; the connection it uses must be
// held by that thread for the statement's life (each store guards its connection with a mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace axon::store {

class Statement {
 public:
  // `what` names the store in errors ("state store: disk I/O error").
  Statement(sqlite3* db, const char* sql, std::string_view what = "store");
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, std::string_view text);
  Statement& BindBlob(int i, std::string_view bytes);
  Statement& Bind(int i, int64_t v);
  // True with a row to read; false at the end or on an error (see status()).
  bool Next();
  // Runs a statement that returns no rows.
  Status Run();
  const Status& status() const { return status_; }
  std::string Text(int col) const;  // also reads blobs; "" for NULL
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  void Fail();

  sqlite3* db_;
  std::string what_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

// Runs `body` in one immediate transaction: committed if it returns OK, rolled back otherwise.
template <typename Body>
Status Transaction(sqlite3* db, Body body) {
  if (Status s = Statement(db, "BEGIN IMMEDIATE").Run(); !s.ok()) return s;
  Status s = body();
  if (s.ok()) s = Statement(db, "COMMIT").Run();
  if (!s.ok()) (void)Statement(db, "ROLLBACK").Run();
  return s;
}

// Runs `sql` (several statements allowed) with no result rows.
Status Exec(sqlite3* db, const char* sql, std::string_view what = "store");

// Opens (creating it and its folder if needed) `file` in WAL mode with a 5 s busy timeout and
// checks it (PRAGMA quick_check). `what` names it in errors ("the state store"); an unreadable
// file's error says how to recover. The caller owns the connection (sqlite3_close).
StatusOr<sqlite3*> OpenDatabase(const std::filesystem::path& file, std::string_view what);
// The error for a database `file` that cannot be used (`why`), saying how to recover.
Status Unreadable(const std::filesystem::path& file, std::string_view what, const std::string& why);

}  // namespace axon::store
