#include "store/sqlite_work_queue.h"

#include <algorithm>
#include <string>

#include "store/sqlite.h"

namespace axon::store {
namespace {

constexpr char kWhat[] = "work queue";

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    status INTEGER NOT NULL,
    payload BLOB NOT NULL,
    content_type TEXT NOT NULL,
    result BLOB NOT NULL DEFAULT x'',
    result_type TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    retention_ms INTEGER NOT NULL,
    worker TEXT NOT NULL DEFAULT '',
    deadline_ms INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL DEFAULT 0,
    UNIQUE (queue, id));
  CREATE INDEX IF NOT EXISTS items_waiting ON items (queue, status, seq);
  CREATE INDEX IF NOT EXISTS items_leased ON items (status, deadline_ms);
  CREATE INDEX IF NOT EXISTS items_finished ON items (expires_ms) WHERE expires_ms > 0;
)sql";

// Back to the queue, or failed once max_attempts leases were had. ?1 = now, ?2 = reason.
constexpr char kGiveBack[] =
    "UPDATE items SET "
    "status = CASE WHEN attempts >= max_attempts THEN 3 ELSE 0 END, "
    "error = CASE WHEN attempts >= max_attempts "
    "  THEN ?2 || ' (tried ' || attempts || ' times)' ELSE error END, "
    "expires_ms = CASE WHEN attempts >= max_attempts THEN ?1 + retention_ms ELSE 0 END, "
    "worker = '', deadline_ms = 0, updated_ms = ?1 WHERE status = 1 AND ";

// The condition that names one current lease, binding ?3 to ?6.
constexpr char kLeaseIs[] = "queue = ?3 AND id = ?4 AND attempts = ?5 AND worker = ?6";

}  // namespace

std::string_view ItemStatusName(ItemStatus status) {
  switch (status) {
    case ItemStatus::kInQueue:
      return "in_queue";
    case ItemStatus::kInProgress:
      return "in_progress";
    case ItemStatus::kCompleted:
      return "completed";
    case ItemStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<SqliteWorkQueue>> SqliteWorkQueue::Open(
    const std::filesystem::path& file) {
  auto db = OpenDatabase(file, "the work queue");
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteWorkQueue> queue(new SqliteWorkQueue(*db));
  if (Status s = Exec(*db, "PRAGMA synchronous=FULL;", kWhat); !s.ok()) return s;
  if (Status s = Exec(*db, kSchema, kWhat); !s.ok()) return s;
  return queue;
}

SqliteWorkQueue::~SqliteWorkQueue() { sqlite3_close(db_); }

Status SqliteWorkQueue::InsertLocked(const NewItem& item, int64_t now_ms) {
  Statement insert(db_,
                   "INSERT INTO items (queue, id, status, payload, content_type, max_attempts, "
                   "retention_ms, created_ms, updated_ms) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (queue, id) DO NOTHING",
                   kWhat);
  insert.Bind(1, item.queue)
      .Bind(2, item.id)
      .BindBlob(3, item.payload)
      .Bind(4, item.content_type)
      .Bind(5, std::max<int64_t>(item.max_attempts, 1))
      .Bind(6, item.retention_ms)
      .Bind(7, now_ms)
      .Bind(8, now_ms);
  if (Status s = insert.Run(); !s.ok()) return s;
  if (sqlite3_changes(db_) == 0) {
    return AlreadyExists("queue " + item.queue + " already holds an item " + item.id);
  }
  return OkStatus();
}

Status SqliteWorkQueue::Enqueue(const NewItem& item, int64_t now_ms) {
  std::lock_guard lock(mu_);
  return InsertLocked(item, now_ms);
}

Status SqliteWorkQueue::EnqueueAll(const std::vector<NewItem>& items, int64_t now_ms) {
  std::lock_guard lock(mu_);
  return Transaction(db_, [&]() -> Status {
    for (const NewItem& item : items) {
      if (Status s = InsertLocked(item, now_ms); !s.ok()) return s;
    }
    return OkStatus();
  });
}

StatusOr<std::optional<Lease>> SqliteWorkQueue::Take(std::string_view queue,
                                                     std::string_view worker, int64_t deadline_ms,
                                                     int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::optional<Lease> lease;
  Status s = Transaction(db_, [&]() -> Status {
    Statement next(db_,
                   "SELECT seq, id, attempts, payload, content_type FROM items "
                   "WHERE queue = ? AND status = 0 ORDER BY seq LIMIT 1",
                   kWhat);
    next.Bind(1, queue);
    if (!next.Next()) return next.status();
    lease = Lease{.queue = std::string(queue),
                  .id = next.Text(1),
                  .attempt = next.Int(2) + 1,
                  .worker = std::string(worker),
                  .deadline_ms = deadline_ms,
                  .payload = next.Text(3),
                  .content_type = next.Text(4)};
    Statement take(db_,
                   "UPDATE items SET status = 1, attempts = attempts + 1, worker = ?, "
                   "deadline_ms = ?, updated_ms = ? WHERE seq = ?",
                   kWhat);
    take.Bind(1, worker).Bind(2, deadline_ms).Bind(3, now_ms).Bind(4, next.Int(0));
    return take.Run();
  });
  if (!s.ok()) return s;
  return lease;
}

StatusOr<bool> SqliteWorkQueue::FinishLocked(const Lease& lease, ItemStatus status,
                                             std::string_view result, std::string_view result_type,
                                             std::string_view error, int64_t now_ms) {
  Statement finish(db_,
                   "UPDATE items SET status = ?1, result = ?2, result_type = ?7, error = ?8, "
                   "payload = x'', worker = '', deadline_ms = 0, updated_ms = ?9, "
                   "expires_ms = ?9 + retention_ms "
                   "WHERE status = 1 AND queue = ?3 AND id = ?4 AND attempts = ?5 AND worker = ?6",
                   kWhat);
  finish.Bind(1, static_cast<int64_t>(status))
      .BindBlob(2, result)
      .Bind(3, lease.queue)
      .Bind(4, lease.id)
      .Bind(5, lease.attempt)
      .Bind(6, lease.worker)
      .Bind(7, result_type)
      .Bind(8, error)
      .Bind(9, now_ms);
  if (Status s = finish.Run(); !s.ok()) return s;
  return sqlite3_changes(db_) > 0;
}

StatusOr<bool> SqliteWorkQueue::Complete(const Lease& lease, std::string_view result,
                                         std::string_view result_type, int64_t now_ms) {
  std::lock_guard lock(mu_);
  return FinishLocked(lease, ItemStatus::kCompleted, result, result_type, "", now_ms);
}

StatusOr<bool> SqliteWorkQueue::Fail(const Lease& lease, std::string_view error, int64_t now_ms) {
  std::lock_guard lock(mu_);
  return FinishLocked(lease, ItemStatus::kFailed, "", "", error, now_ms);
}

StatusOr<bool> SqliteWorkQueue::GiveBack(const Lease& lease, std::string_view reason,
                                         int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement back(db_, (std::string(kGiveBack) + kLeaseIs).c_str(), kWhat);
  back.Bind(1, now_ms)
      .Bind(2, reason)
      .Bind(3, lease.queue)
      .Bind(4, lease.id)
      .Bind(5, lease.attempt)
      .Bind(6, lease.worker);
  if (Status s = back.Run(); !s.ok()) return s;
  return sqlite3_changes(db_) > 0;
}

StatusOr<int64_t> SqliteWorkQueue::ExpireLeases(int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement back(db_, (std::string(kGiveBack) + "deadline_ms <= ?3").c_str(), kWhat);
  back.Bind(1, now_ms)
      .Bind(2, "its worker did not finish it before the lease's deadline")
      .Bind(3, now_ms);
  if (Status s = back.Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

StatusOr<int64_t> SqliteWorkQueue::ReleaseWorker(std::string_view worker, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement back(db_, (std::string(kGiveBack) + "worker = ?3").c_str(), kWhat);
  back.Bind(1, now_ms).Bind(2, "its worker stopped before finishing it").Bind(3, worker);
  if (Status s = back.Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

StatusOr<Item> SqliteWorkQueue::Get(std::string_view queue, std::string_view id) const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT status, result, result_type, error, attempts, created_ms, updated_ms "
              "FROM items WHERE queue = ? AND id = ?",
              kWhat);
  q.Bind(1, queue).Bind(2, id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return NotFound("no request " + std::string(id) + " in " + std::string(queue));
  }
  return Item{.queue = std::string(queue),
              .id = std::string(id),
              .status = static_cast<ItemStatus>(q.Int(0)),
              .result = q.Text(1),
              .result_type = q.Text(2),
              .error = q.Text(3),
              .attempts = q.Int(4),
              .created_ms = q.Int(5),
              .updated_ms = q.Int(6)};
}

StatusOr<QueueCounts> SqliteWorkQueue::CountLocked(std::string_view queue, bool finished) const {
  Statement q(db_,
              finished ? "SELECT status, COUNT(*) FROM items WHERE queue = ? GROUP BY status"
                       : "SELECT status, COUNT(*) FROM items WHERE queue = ? AND status < 2 "
                         "GROUP BY status",
              kWhat);
  q.Bind(1, queue);
  QueueCounts counts;
  while (q.Next()) {
    switch (static_cast<ItemStatus>(q.Int(0))) {
      case ItemStatus::kInQueue:
        counts.in_queue = q.Int(1);
        break;
      case ItemStatus::kInProgress:
        counts.in_progress = q.Int(1);
        break;
      case ItemStatus::kCompleted:
        counts.completed = q.Int(1);
        break;
      case ItemStatus::kFailed:
        counts.failed = q.Int(1);
        break;
    }
  }
  if (!q.status().ok()) return q.status();
  return counts;
}

StatusOr<QueueCounts> SqliteWorkQueue::Counts(std::string_view queue) const {
  std::lock_guard lock(mu_);
  return CountLocked(queue, /*finished=*/false);
}

StatusOr<QueueCounts> SqliteWorkQueue::CountAll(std::string_view queue) const {
  std::lock_guard lock(mu_);
  return CountLocked(queue, /*finished=*/true);
}

StatusOr<std::vector<Item>> SqliteWorkQueue::Failed(std::string_view queue, int64_t limit) const {
  std::lock_guard lock(mu_);
  Statement q(db_,
              "SELECT id, error, attempts, created_ms, updated_ms FROM items "
              "WHERE queue = ? AND status = 3 ORDER BY seq LIMIT ?",
              kWhat);
  q.Bind(1, queue).Bind(2, limit);
  std::vector<Item> out;
  while (q.Next()) {
    out.push_back(Item{.queue = std::string(queue),
                       .id = q.Text(0),
                       .status = ItemStatus::kFailed,
                       .error = q.Text(1),
                       .attempts = q.Int(2),
                       .created_ms = q.Int(3),
                       .updated_ms = q.Int(4)});
  }
  if (!q.status().ok()) return q.status();
  return out;
}

StatusOr<int64_t> SqliteWorkQueue::RemoveExpired(int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement remove(db_, "DELETE FROM items WHERE expires_ms > 0 AND expires_ms <= ?", kWhat);
  remove.Bind(1, now_ms);
  if (Status s = remove.Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Status SqliteWorkQueue::DropQueue(std::string_view queue) {
  std::lock_guard lock(mu_);
  Statement remove(db_, "DELETE FROM items WHERE queue = ?", kWhat);
  remove.Bind(1, queue);
  return remove.Run();
}

}  // namespace axon::store
