// The durable record of BatchAPI and TaskAPI jobs: what was submitted, where each job is in
// its life, and, once it has ended, its final counts. The batches (and a task's one item)
// live in the work queue (work_queue.h), in a queue per job; this store holds the rest.
//
// A job's life (Cortex's statuses):
//   enqueuing -> running -> succeeded | completed_with_failures | worker_error | timed_out
//                        -> stopped (DELETE) ; enqueuing -> enqueue_failed
// and unexpected_error for a job the platform could not go on with (its API version is gone).
// A job that has ended never changes again (Transition answers false).
//
// Times are unix milliseconds passed in by the caller.
//
// Implementations: SqliteJobStore (sqlite_job_store.h, local mode).
//
// Threading: every method may be called from any thread. Once a call returns OK its change
// survives a SIGKILL of the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace axon::store {

enum class JobStatus {
  kEnqueuing = 0,
  kRunning = 1,
  kSucceeded = 2,
  kCompletedWithFailures = 3,
  kWorkerError = 4,
  kTimedOut = 5,
  kStopped = 6,
  kEnqueueFailed = 7,
  kUnexpectedError = 8,
};
// The JSON value: "enqueuing", "running", "succeeded", "completed_with_failures", ...
std::string_view JobStatusName(JobStatus status);
// As a person reads it (Cortex's words): "completed with failures", "failed while enqueuing".
std::string_view JobStatusText(JobStatus status);
// Every status but enqueuing and running.
bool JobEnded(JobStatus status);

struct Job {
  std::string api;
  std::string id;
  std::string kind;  // "BatchAPI" or "TaskAPI"
  int64_t api_version = 0;
  JobStatus status = JobStatus::kEnqueuing;
  std::string submission;  // the job as submitted and checked, JSON (operator/job_spec.h)
  int64_t workers = 1;
  int64_t total_batches = 0;  // a task: 1
  int64_t timeout_ms = 0;     // 0: none
  int64_t created_ms = 0;
  int64_t start_ms = 0;  // once running
  int64_t end_ms = 0;    // once ended
  std::string error;     // why it ended as it did (worker_error, timed_out, ...)
  // Sum and count of the run times of the batches that finished.
  int64_t batch_ms_total = 0;
  int64_t batches_timed = 0;
  // Once ended: the queue's counts then (the queue of a job that did not finish is dropped).
  int64_t final_succeeded = 0;
  int64_t final_failed = 0;
  int64_t final_in_queue = 0;
};

// How a job ends.
struct JobEnd {
  std::string error;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t in_queue = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Stores a new job (as given, usually enqueuing). AlreadyExists when the API has that id.
  virtual Status Create(const Job& job) = 0;
  // NotFound when the API has no job `id`.
  virtual StatusOr<Job> Get(std::string_view api, std::string_view id) const = 0;
  // The API's jobs, newest first, at most `limit`.
  virtual StatusOr<std::vector<Job>> List(std::string_view api, int64_t limit) const = 0;
  // Every job of any API that has not ended.
  virtual StatusOr<std::vector<Job>> Unfinished() const = 0;
  // Moves a job that has not ended to `to`: running sets its start time; an ended status its
  // end time, error and final counts from `end`. False (no change) when it had ended already.
  virtual StatusOr<bool> Transition(std::string_view api, std::string_view id, JobStatus to,
                                    const JobEnd& end, int64_t now_ms) = 0;
  // One more finished batch that ran for `ms`.
  virtual Status AddBatchTime(std::string_view api, std::string_view id, int64_t ms) = 0;
  // Removes every job of `api` (it was deleted).
  virtual Status DeleteApi(std::string_view api) = 0;
};

}  // namespace axon::store
