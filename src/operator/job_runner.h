// Runs the jobs of BatchAPIs and TaskAPIs (Cortex's kinds): a job is a queue of work items (the
// batches; a task's one run) in the work queue, a record in the job store, and its workers,
// replicas of the API version current at submission, started for the job alone and stopped
// when it ends. The AsyncDispatcher feeds each worker one item at a time (Views()).
//
//   Submit   records the job (enqueuing), stores every batch in one transaction, marks it
//            running and applies its workers to the backend as a target of their own,
//            JobWorkerName (job_names.h): its replicas log to $AXON_HOME/logs/<api>.<id>.log.
//   a pass   (every `tick`, on the runner's thread) for each running job:
//            - every item finished: a BatchAPI's on_job_complete() is called on one worker,
//              then the job is succeeded, or completed_with_failures when a batch failed
//              queue.max_attempts times; a task whose run failed is worker_error;
//            - past its timeout: timed_out; workers that cannot start (the predictor does not
//              load, a crash loop): worker_error with the reason;
//            - else its workers are applied again (idempotent).
//   Stop     (DELETE) ends a running job as stopped.
// A job that ends other than by finishing its items has its queue dropped; its counts stay in
// the job store. The worker target's files (spec, job spec for the predictor) are kept under
// $AXON_HOME/jobs/<api>/<job id>/ while the job runs.
//
// Nothing is lost to a SIGKILL of a worker (its item is given back and run again, an attempt
// more) or of the operator: Load() at start re-applies the workers of running jobs (before the
// backend adopts the replicas an earlier operator left) and settles jobs that were enqueuing.
// on_job_complete() may run twice if the operator dies while it runs.
//
// Threading: every public method may be called from any thread after Load(). One mutex guards
// the running jobs; the store, the queue and the backend are called without it held, except
// the backend's non-blocking Apply/Observe and the job store's move to running or stopped
// (so that a submission and a stop of the same job are ordered).
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/axon_home.h"
#include "common/status.h"
#include "operator/api_backend.h"
#include "operator/controller.h"
#include "operator/job_names.h"
#include "operator/job_submission.h"
#include "store/job_store.h"
#include "store/work_queue.h"

namespace axon::operator_ {

class JobRunner {
 public:
  struct Options {
    AxonHome home;
    std::chrono::milliseconds tick{200};
    std::chrono::milliseconds batch_timeout{60'000};  // one run, unless networking.timeout says
    // A task's run, unless networking.timeout or the job's timeout says.
    std::chrono::milliseconds task_timeout{24LL * 3'600'000};
    JobLimits limits;
  };
  // `jobs`, `queue` and `backend` must outlive the runner; `wake` (may be empty) tells the
  // dispatcher that a job has work.
  JobRunner(Options options, store::JobStore& jobs, store::WorkQueue& queue, ApiBackend& backend,
            std::function<void()> wake);
  ~JobRunner();  // stops the runner's thread; workers keep running (see StopAll())
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Settles the jobs an earlier operator left and applies the workers of running ones.
  Status Load();
  // Starts the runner's thread (after Load()).
  void Start();

  // A new job of the API whose current version is `api` (its target: spec, bundle, spec file),
  // from the body of the submission. InvalidArgument for a bad body.
  StatusOr<store::Job> Submit(const ApiTarget& api, std::string_view body);
  // Ends a running job as stopped; a job that has ended is returned as it is.
  StatusOr<store::Job> Stop(const std::string& api, const std::string& id);
  StatusOr<store::Job> Get(const std::string& api, const std::string& id) const;
  StatusOr<std::vector<store::Job>> List(const std::string& api) const;
  // Stops the API's running jobs and forgets all of them (the API was deleted).
  void DropApi(const std::string& api);

  // The job as GET answers it: status, counts, metrics, worker counts, failed batches; with
  // `replicas`, its workers now ([{"id", "state", "pid", "restarts"}]).
  nlohmann::json Json(const store::Job& job, bool replicas) const;
  // The running jobs with their ready workers, for the dispatcher.
  std::vector<AsyncApiView> Views() const;
  // The dispatcher finished an item of a job after `elapsed` (completed, or failed for good).
  void BatchFinished(const AsyncApiView& view, std::chrono::milliseconds elapsed);

 private:
  struct Running {
    store::Job job;
    ApiTarget target;   // its workers
    AsyncApiView view;  // without ready replicas
  };
  void Run();
  void Pass();
  // One running job's pass; returns how it ends, or nullopt while it goes on.
  std::optional<std::pair<store::JobStatus, std::string>> Check(const Running& running);
  // Calls on_job_complete() on `worker`; the error when it failed.
  std::optional<std::string> CallComplete(const Running& running, const ReplicaStatus& worker);
  // Takes the job `key` out of running_, or, when it is not there, runs `if_absent` (may be
  // empty) under the same lock.
  std::optional<Running> Take(const std::string& key, const std::function<void()>& if_absent);
  // Ends the job as `status` unless it ended already (Take, then Finish).
  void End(const std::string& key, store::JobStatus status, const std::string& error);
  // Ends a job taken out of running_: its counts into the store, workers removed, its files
  // and (unless it finished its items) its queue dropped.
  void Finish(Running running, store::JobStatus status, const std::string& error);
  // The worker target and view of `job` from its files. mu_ not held.
  StatusOr<Running> Restore(const store::Job& job) const;
  Running MakeRunning(const store::Job& job, ApiTarget target) const;
  std::filesystem::path JobDir(const std::string& api, const std::string& id) const;

  const Options options_;
  store::JobStore& jobs_;
  store::WorkQueue& queue_;
  ApiBackend& backend_;
  const std::function<void()> wake_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, Running> running_;  // by JobQueueName; guarded by mu_
  std::thread thread_;
};

}  // namespace axon::operator_
