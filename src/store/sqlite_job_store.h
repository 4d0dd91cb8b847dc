// JobStore in SQLite (WAL, synchronous=FULL) in a file of its own under $AXON_HOME (jobs.db).
// One connection and one mutex; every change is one statement or one transaction.
//
// Threading: every method may be called from any thread; each blocks on SQLite.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/job_store.h"

namespace axon::store {

class SqliteJobStore final : public JobStore {
 public:
  // Opens (creating it if needed) and checks the database.
  static StatusOr<std::unique_ptr<SqliteJobStore>> Open(const std::filesystem::path& file);
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  Status Create(const Job& job) override;
  StatusOr<Job> Get(std::string_view api, std::string_view id) const override;
  StatusOr<std::vector<Job>> List(std::string_view api, int64_t limit) const override;
  StatusOr<std::vector<Job>> Unfinished() const override;
  StatusOr<bool> Transition(std::string_view api, std::string_view id, JobStatus to,
                            const JobEnd& end, int64_t now_ms) override;
  Status AddBatchTime(std::string_view api, std::string_view id, int64_t ms) override;
  Status DeleteApi(std::string_view api) override;

 private:
  explicit SqliteJobStore(sqlite3* db) : db_(db) {}

  mutable std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
};

}  // namespace axon::store
