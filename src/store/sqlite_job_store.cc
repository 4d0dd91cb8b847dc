#include "store/sqlite_job_store.h"

#include "store/sqlite.h"

namespace axon::store {
namespace {

constexpr char kWhat[] = "job store";

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    api_version INTEGER NOT NULL,
    status INTEGER NOT NULL,
    submission TEXT NOT NULL,
    workers INTEGER NOT NULL,
    total_batches INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    start_ms INTEGER NOT NULL DEFAULT 0,
    end_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    batch_ms_total INTEGER NOT NULL DEFAULT 0,
    batches_timed INTEGER NOT NULL DEFAULT 0,
    final_succeeded INTEGER NOT NULL DEFAULT 0,
    final_failed INTEGER NOT NULL DEFAULT 0,
    final_in_queue INTEGER NOT NULL DEFAULT 0,
    UNIQUE (api, id));
  CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (status) WHERE status < 2;
)sql";

constexpr char kColumns[] =
    "SELECT api, id, kind, api_version, status, submission, workers, total_batches, timeout_ms, "
    "created_ms, start_ms, end_ms, error, batch_ms_total, batches_timed, final_succeeded, "
    "final_failed, final_in_queue FROM jobs ";

Job Read(const Statement& q) {
  return Job{.api = q.Text(0),
             .id = q.Text(1),
             .kind = q.Text(2),
             .api_version = q.Int(3),
             .status = static_cast<JobStatus>(q.Int(4)),
             .submission = q.Text(5),
             .workers = q.Int(6),
             .total_batches = q.Int(7),
             .timeout_ms = q.Int(8),
             .created_ms = q.Int(9),
             .start_ms = q.Int(10),
             .end_ms = q.Int(11),
             .error = q.Text(12),
             .batch_ms_total = q.Int(13),
             .batches_timed = q.Int(14),
             .final_succeeded = q.Int(15),
             .final_failed = q.Int(16),
             .final_in_queue = q.Int(17)};
}

StatusOr<std::vector<Job>> ReadAll(Statement& q) {
  std::vector<Job> out;
  while (q.Next()) out.push_back(Read(q));
  if (!q.status().ok()) return q.status();
  return out;
}

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kEnqueuing:
      return "enqueuing";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kCompletedWithFailures:
      return "completed_with_failures";
    case JobStatus::kWorkerError:
      return "worker_error";
    case JobStatus::kTimedOut:
      return "timed_out";
    case JobStatus::kStopped:
      return "stopped";
    case JobStatus::kEnqueueFailed:
      return "enqueue_failed";
    case JobStatus::kUnexpectedError:
      return "unexpected_error";
  }
  return "unknown";
}

std::string_view JobStatusText(JobStatus status) {
  switch (status) {
    case JobStatus::kCompletedWithFailures:
      return "completed with failures";
    case JobStatus::kWorkerError:
      return "worker error";
    case JobStatus::kTimedOut:
      return "timed out";
    case JobStatus::kEnqueueFailed:
      return "failed while enqueuing";
    case JobStatus::kUnexpectedError:
      return "unexpected error";
    default:
      return JobStatusName(status);
  }
}

bool JobEnded(JobStatus status) {
  return status != JobStatus::kEnqueuing && status != JobStatus::kRunning;
}

StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::filesystem::path& file) {
  auto db = OpenDatabase(file, "the job store");
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(*db));
  if (Status s = Exec(*db, "PRAGMA synchronous=FULL;", kWhat); !s.ok()) return s;
  if (Status s = Exec(*db, kSchema, kWhat); !s.ok()) return s;
  return store;
}

SqliteJobStore::~SqliteJobStore() { sqlite3_close(db_); }

Status SqliteJobStore::Create(const Job& job) {
  std::lock_guard lock(mu_);
  Statement insert(db_,
                   "INSERT INTO jobs (api, id, kind, api_version, status, submission, workers, "
                   "total_batches, timeout_ms, created_ms, start_ms) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (api, id) DO NOTHING",
                   kWhat);
  insert.Bind(1, job.api)
      .Bind(2, job.id)
      .Bind(3, job.kind)
      .Bind(4, job.api_version)
      .Bind(5, static_cast<int64_t>(job.status))
      .Bind(6, job.submission)
      .Bind(7, job.workers)
      .Bind(8, job.total_batches)
      .Bind(9, job.timeout_ms)
      .Bind(10, job.created_ms)
      .Bind(11, job.start_ms);
  if (Status s = insert.Run(); !s.ok()) return s;
  if (sqlite3_changes(db_) == 0) {
    return AlreadyExists("api " + job.api + " already has a job " + job.id);
  }
  return OkStatus();
}

StatusOr<Job> SqliteJobStore::Get(std::string_view api, std::string_view id) const {
  std::lock_guard lock(mu_);
  Statement q(db_, (std::string(kColumns) + "WHERE api = ? AND id = ?").c_str(), kWhat);
  q.Bind(1, api).Bind(2, id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return NotFound("api " + std::string(api) + " has no job " + std::string(id));
  }
  return Read(q);
}

StatusOr<std::vector<Job>> SqliteJobStore::List(std::string_view api, int64_t limit) const {
  std::lock_guard lock(mu_);
  Statement q(db_, (std::string(kColumns) + "WHERE api = ? ORDER BY seq DESC LIMIT ?").c_str(),
              kWhat);
  q.Bind(1, api).Bind(2, limit);
  return ReadAll(q);
}

StatusOr<std::vector<Job>> SqliteJobStore::Unfinished() const {
  std::lock_guard lock(mu_);
  Statement q(db_, (std::string(kColumns) + "WHERE status < 2 ORDER BY seq").c_str(), kWhat);
  return ReadAll(q);
}

StatusOr<bool> SqliteJobStore::Transition(std::string_view api, std::string_view id, JobStatus to,
                                          const JobEnd& end, int64_t now_ms) {
  std::lock_guard lock(mu_);
  const bool ended = JobEnded(to);
  Statement update(db_,
                   ended ? "UPDATE jobs SET status = ?1, end_ms = ?2, error = ?3, "
                           "final_succeeded = ?4, final_failed = ?5, final_in_queue = ?6 "
                           "WHERE api = ?7 AND id = ?8 AND status < 2"
                         : "UPDATE jobs SET status = ?1, start_ms = CASE WHEN ?1 = 1 AND "
                           "start_ms = 0 THEN ?2 ELSE start_ms END "
                           "WHERE api = ?7 AND id = ?8 AND status < 2",
                   kWhat);
  update.Bind(1, static_cast<int64_t>(to)).Bind(2, now_ms).Bind(7, api).Bind(8, id);
  if (ended) {
    update.Bind(3, end.error).Bind(4, end.succeeded).Bind(5, end.failed).Bind(6, end.in_queue);
  }
  if (Status s = update.Run(); !s.ok()) return s;
  return sqlite3_changes(db_) > 0;
}

Status SqliteJobStore::AddBatchTime(std::string_view api, std::string_view id, int64_t ms) {
  std::lock_guard lock(mu_);
  Statement update(db_,
                   "UPDATE jobs SET batch_ms_total = batch_ms_total + ?, "
                   "batches_timed = batches_timed + 1 WHERE api = ? AND id = ?",
                   kWhat);
  update.Bind(1, ms).Bind(2, api).Bind(3, id);
  return update.Run();
}

Status SqliteJobStore::DeleteApi(std::string_view api) {
  std::lock_guard lock(mu_);
  Statement remove(db_, "DELETE FROM jobs WHERE api = ?", kWhat);
  remove.Bind(1, api);
  return remove.Run();
}

}  // namespace axon::store
