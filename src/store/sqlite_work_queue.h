// WorkQueue in SQLite (WAL, synchronous=FULL) in a file of its own under $AXON_HOME
// (queue.db), so that queue traffic never waits on the state store's lock. One connection and
// one mutex: one writer; every change of state is one transaction.
//
// Threading: every method may be called from any thread; each blocks on SQLite (an fsync per
// change; up to 5 s while another process holds the database).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/work_queue.h"

namespace axon::store {

class SqliteWorkQueue final : public WorkQueue {
 public:
  // Opens (creating it if needed) and checks the database.
  static StatusOr<std::unique_ptr<SqliteWorkQueue>> Open(const std::filesystem::path& file);
  ~SqliteWorkQueue() override;
  SqliteWorkQueue(const SqliteWorkQueue&) = delete;
  SqliteWorkQueue& operator=(const SqliteWorkQueue&) = delete;

  Status Enqueue(const NewItem& item, int64_t now_ms) override;
  Status EnqueueAll(const std::vector<NewItem>& items, int64_t now_ms) override;
  StatusOr<std::optional<Lease>> Take(std::string_view queue, std::string_view worker,
                                      int64_t deadline_ms, int64_t now_ms) override;
  StatusOr<bool> Complete(const Lease& lease, std::string_view result, std::string_view result_type,
                          int64_t now_ms) override;
  StatusOr<bool> Fail(const Lease& lease, std::string_view error, int64_t now_ms) override;
  StatusOr<bool> GiveBack(const Lease& lease, std::string_view reason, int64_t now_ms) override;
  StatusOr<int64_t> ExpireLeases(int64_t now_ms) override;
  StatusOr<int64_t> ReleaseWorker(std::string_view worker, int64_t now_ms) override;
  StatusOr<Item> Get(std::string_view queue, std::string_view id) const override;
  StatusOr<QueueCounts> Counts(std::string_view queue) const override;
  StatusOr<QueueCounts> CountAll(std::string_view queue) const override;
  StatusOr<std::vector<Item>> Failed(std::string_view queue, int64_t limit) const override;
  StatusOr<int64_t> RemoveExpired(int64_t now_ms) override;
  Status DropQueue(std::string_view queue) override;

 private:
  explicit SqliteWorkQueue(sqlite3* db) : db_(db) {}
  Status InsertLocked(const NewItem& item, int64_t now_ms);                        // mu_ held
  StatusOr<QueueCounts> CountLocked(std::string_view queue, bool finished) const;  // mu_ held
  // Ends the current lease (queue, id, attempt, worker) as `status`. mu_ held.
  StatusOr<bool> FinishLocked(const Lease& lease, ItemStatus status, std::string_view result,
                              std::string_view result_type, std::string_view error, int64_t now_ms);

  mutable std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
};

}  // namespace axon::store
