#include "operator/job_runner.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/files.h"
#include "common/log_line.h"
#include "common/text.h"
#include "http/client.h"
#include "operator/async_dispatcher.h"
#include "operator/bundles.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;
namespace fs = std::filesystem;
using store::Job;
using store::JobStatus;

constexpr int64_t kFailedShown = 100;                   // failed batches listed by Json()
constexpr char kJobEventHeader[] = "X-Axon-Job-Event";  // glue.py's _JOB_EVENT_HEADER

// What the job's predictor gets as job_spec (glue.py reads it from AXON_JOB_FILE).
nlohmann::json PredictorJobSpec(const Job& job, const nlohmann::json& submission) {
  nlohmann::json out = {{"job_id", job.id},
                        {"api_name", job.api},
                        {"kind", job.kind},
                        {"workers", job.workers},
                        {"config", submission.value("config", nlohmann::json::object())},
                        {"created_time", FormatLogTime(job.created_ms)}};
  if (job.kind == spec::kBatchKind) out["total_batches"] = job.total_batches;
  if (submission.contains("timeout")) out["timeout"] = submission["timeout"];
  return out;
}

}  // namespace

JobRunner::JobRunner(Options options, store::JobStore& jobs, store::WorkQueue& queue,
                     ApiBackend& backend, std::function<void()> wake)
    : options_(std::move(options)),
      jobs_(jobs),
      queue_(queue),
      backend_(backend),
      wake_(std::move(wake)) {}

JobRunner::~JobRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

fs::path JobRunner::JobDir(const std::string& api, const std::string& id) const {
  return options_.home.root / "jobs" / api / id;
}

JobRunner::Running JobRunner::MakeRunning(const Job& job, ApiTarget target) const {
  const spec::ApiSpec& spec = target.spec;
  const bool task = job.kind == spec::kTaskKind;
  std::chrono::milliseconds timeout = spec.networking.timeout;
  if (timeout.count() <= 0) {
    timeout = !task                ? options_.batch_timeout
              : job.timeout_ms > 0 ? std::chrono::milliseconds(job.timeout_ms)
                                   : options_.task_timeout;
  }
  AsyncApiView view{.name = job.api,
                    .version = job.api_version,
                    .queue = spec.queue,
                    .timeout = timeout,
                    .per_replica = 1,
                    .queue_name = JobQueueName(job.api, job.id),
                    .job_id = job.id,
                    .retry_errors = !task};
  return {.job = job, .target = std::move(target), .view = std::move(view)};
}

StatusOr<JobRunner::Running> JobRunner::Restore(const Job& job) const {
  const fs::path dir = JobDir(job.api, job.id);
  auto spec_text = ReadFile(dir / "spec.json");
  auto target_text = ReadFile(dir / "target.json");
  if (!spec_text.ok()) return spec_text.status();
  if (!target_text.ok()) return target_text.status();
  ApiTarget target{.api = JobWorkerName(job.api, job.id),
                   .version = job.api_version,
                   .revision = 1,
                   .spec_file = dir / "spec.json",
                   .replicas = job.workers};
  try {
    target.spec = spec::ApiSpecFromJson(nlohmann::json::parse(*spec_text));
    target.bundle = nlohmann::json::parse(*target_text).at("bundle").get<std::string>();
  } catch (const std::exception& e) {
    return Internal(std::string("unreadable worker files: ") + e.what());
  }
  return MakeRunning(job, std::move(target));
}

Status JobRunner::Load() {
  auto unfinished = jobs_.Unfinished();
  if (!unfinished.ok()) return unfinished.status();
  for (Job& job : *unfinished) {
    const std::string queue = JobQueueName(job.api, job.id);
    if (job.status == JobStatus::kEnqueuing) {
      auto counts = queue_.CountAll(queue);
      const bool stored = counts.ok() && counts->in_queue + counts->in_progress +
                                                 counts->completed + counts->failed ==
                                             job.total_batches;
      if (!stored) {
        (void)queue_.DropQueue(queue);
        (void)jobs_.Transition(job.api, job.id, JobStatus::kEnqueueFailed,
                               {.error = "the operator stopped while the job's batches were "
                                         "being stored; submit it again"},
                               UnixNowMs());
        continue;
      }
      (void)jobs_.Transition(job.api, job.id, JobStatus::kRunning, {}, UnixNowMs());
      job.status = JobStatus::kRunning;
      if (job.start_ms == 0) job.start_ms = UnixNowMs();
    }
    auto running = Restore(job);
    if (!running.ok()) {
      spdlog::error("job {} of api {}: {}", job.id, job.api, running.status().message());
      (void)queue_.DropQueue(queue);
      (void)jobs_.Transition(job.api, job.id, JobStatus::kUnexpectedError,
                             {.error = "its workers could not be started again after the "
                                       "operator restarted (their files are gone; see the "
                                       "operator's log)"},
                             UnixNowMs());
      continue;
    }
    backend_.Apply(running->target);
    spdlog::info("job {} of api {}: running again ({} workers)", job.id, job.api, job.workers);
    std::lock_guard lock(mu_);
    running_.emplace(queue, std::move(running).value());
  }
  return OkStatus();
}

void JobRunner::Start() {
  thread_ = std::thread([this] { Run(); });
}

StatusOr<Job> JobRunner::Submit(const ApiTarget& api, std::string_view body) {
  const bool batch = api.spec.kind == spec::kBatchKind;
  auto plan = batch ? ParseBatchSubmission(body, SourceFolder(api.spec.predictor), options_.limits)
                    : ParseTaskSubmission(body);
  if (!plan.ok()) return plan.status();
  const int64_t now = UnixNowMs();
  const nlohmann::json submission = SubmissionJson(*plan);
  Job job{.api = api.api,
          .id = RandomHex(8),
          .kind = api.spec.kind,
          .api_version = api.version,
          .submission = submission.dump(),
          .workers = batch ? plan->workers : 1,
          .total_batches = static_cast<int64_t>(plan->batches.size()),
          .timeout_ms = plan->timeout_s * 1000,
          .created_ms = now};

  // The workers' files first: a job on record always has them.
  const fs::path dir = JobDir(job.api, job.id);
  ApiTarget target = api;
  target.api = JobWorkerName(job.api, job.id);
  target.revision = 1;
  target.replicas = job.workers;
  target.spec_file = dir / "spec.json";
  for (const auto& [key, value] : plan->config.items()) target.spec.predictor.config[key] = value;
  target.spec.predictor.env["AXON_JOB_FILE"] = (dir / "job.json").string();
  target.spec.predictor.env["AXON_JOB_ID"] = job.id;
  for (const auto& [file, text] :
       {std::pair{"spec.json", spec::ToJson(target.spec).dump()},
        std::pair{"job.json", PredictorJobSpec(job, submission).dump()},
        std::pair{"target.json", nlohmann::json{{"bundle", target.bundle}}.dump()}}) {
    if (Status s = WriteFileAtomic(dir / file, text); !s.ok()) return s;
  }
  if (Status s = jobs_.Create(job); !s.ok()) return s;

  std::vector<store::NewItem> items;
  items.reserve(plan->batches.size());
  for (size_t i = 0; i < plan->batches.size(); ++i) {
    items.push_back({.queue = JobQueueName(job.api, job.id),
                     .id = std::to_string(i),
                     .payload = std::move(plan->batches[i]),
                     .content_type = "application/json",
                     .max_attempts = api.spec.queue.max_attempts,
                     .retention_ms = api.spec.queue.result_retention.count()});
  }
  if (Status s = queue_.EnqueueAll(items, UnixNowMs()); !s.ok()) {
    spdlog::error("job {} of api {}: cannot store its batches: {}", job.id, job.api, s.message());
    (void)jobs_.Transition(job.api, job.id, JobStatus::kEnqueueFailed,
                           {.error = "its batches could not be stored: " + s.message()},
                           UnixNowMs());
    std::error_code ec;
    fs::remove_all(dir, ec);
    return Unavailable("api " + job.api +
                       " cannot store the job now (its queue is unwritable); "
                       "retry later");
  }
  {
    // Running, and known to the passes and to Stop(), in one step: a stop serialized before it
    // leaves the job ended (Transition answers false), one after it finds it in running_.
    std::lock_guard lock(mu_);
    const int64_t now_ms = UnixNowMs();
    auto moved = jobs_.Transition(job.api, job.id, JobStatus::kRunning, {}, now_ms);
    if (!moved.ok() || !*moved) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      (void)queue_.DropQueue(JobQueueName(job.api, job.id));
      if (!moved.ok()) return moved.status();
      return jobs_.Get(job.api, job.id);  // stopped while its batches were stored
    }
    job.status = JobStatus::kRunning;
    job.start_ms = now_ms;
    backend_.Apply(target);
    running_.emplace(JobQueueName(job.api, job.id), MakeRunning(job, std::move(target)));
  }
  spdlog::info("job {} of api {}: {} batches, {} workers", job.id, job.api, job.total_batches,
               job.workers);
  cv_.notify_all();
  if (wake_) wake_();
  return job;
}

StatusOr<Job> JobRunner::Stop(const std::string& api, const std::string& id) {
  auto job = jobs_.Get(api, id);
  if (!job.ok() || store::JobEnded(job->status)) return job;
  const std::string why = "stopped by a DELETE request";
  std::optional<Running> running = Take(JobQueueName(api, id), [&] {
    // Not running here yet (its batches are being stored): it ends now, and Submit finds it so.
    (void)jobs_.Transition(api, id, JobStatus::kStopped, {.error = why}, UnixNowMs());
  });
  if (running) Finish(std::move(*running), JobStatus::kStopped, why);
  return jobs_.Get(api, id);
}

StatusOr<Job> JobRunner::Get(const std::string& api, const std::string& id) const {
  return jobs_.Get(api, id);
}

StatusOr<std::vector<Job>> JobRunner::List(const std::string& api) const {
  constexpr int64_t kListed = 1000;
  return jobs_.List(api, kListed);
}

void JobRunner::DropApi(const std::string& api) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, running] : running_) {
      if (running.job.api == api) keys.push_back(key);
    }
  }
  for (const auto& key : keys) End(key, JobStatus::kStopped, "its API was deleted");
  if (auto all = jobs_.List(api, std::numeric_limits<int64_t>::max()); all.ok()) {
    for (const Job& job : *all) (void)queue_.DropQueue(JobQueueName(api, job.id));
  }
  if (Status s = jobs_.DeleteApi(api); !s.ok()) {
    spdlog::error("api {}: cannot remove its jobs: {}", api, s.message());
  }
  std::error_code ec;
  fs::remove_all(options_.home.root / "jobs" / api, ec);
}

std::optional<JobRunner::Running> JobRunner::Take(const std::string& key,
                                                  const std::function<void()>& if_absent) {
  std::lock_guard lock(mu_);
  auto it = running_.find(key);
  if (it == running_.end()) {
    if (if_absent) if_absent();
    return std::nullopt;
  }
  Running running = std::move(it->second);
  running_.erase(it);
  return running;
}

void JobRunner::End(const std::string& key, JobStatus status, const std::string& error) {
  // Absent: ended already (a stop and a pass at once).
  if (std::optional<Running> running = Take(key, nullptr)) {
    Finish(std::move(*running), status, error);
  }
}

void JobRunner::Finish(Running running, JobStatus status, const std::string& error) {
  backend_.Remove(running.target.api);
  const Job& job = running.job;
  const std::string key = running.view.queue_name;
  auto counts = queue_.CountAll(key);
  store::JobEnd end{.error = error};
  if (counts.ok()) {
    end.succeeded = counts->completed;
    end.failed = counts->failed;
    end.in_queue = counts->in_queue + counts->in_progress;
  }
  if (auto moved = jobs_.Transition(job.api, job.id, status, end, UnixNowMs()); !moved.ok()) {
    spdlog::error("job {} of api {}: cannot record its end: {}", job.id, job.api,
                  moved.status().message());
  }
  if (end.in_queue > 0) (void)queue_.DropQueue(key);  // nothing will run them
  std::error_code ec;
  fs::remove_all(JobDir(job.api, job.id), ec);
  spdlog::info("job {} of api {}: {}{}", job.id, job.api, store::JobStatusText(status),
               error.empty() ? "" : " (" + error + ")");
}

void JobRunner::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      Pass();
    } catch (const std::exception& e) {
      spdlog::error("jobs: pass failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, options_.tick, [this] { return stop_; });
  }
}

void JobRunner::Pass() {
  std::vector<std::pair<std::string, Running>> running;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, r] : running_) running.emplace_back(key, r);
  }
  for (const auto& [key, r] : running) {
    if (auto ending = Check(r)) {
      End(key, ending->first, ending->second);
    } else {
      std::lock_guard lock(mu_);  // not after a Stop() took it out
      if (running_.contains(key)) backend_.Apply(r.target);
    }
  }
}

std::optional<std::pair<JobStatus, std::string>> JobRunner::Check(const Running& running) {
  const Job& job = running.job;
  if (job.timeout_ms > 0 && UnixNowMs() - job.start_ms > job.timeout_ms) {
    return std::pair{JobStatus::kTimedOut, "the job did not finish within its timeout of " +
                                               std::to_string(job.timeout_ms / 1000) + " s"};
  }
  const ApiObservation observed = backend_.Observe(running.target.api);
  auto counts = queue_.CountAll(running.view.queue_name);
  if (!counts.ok()) {
    spdlog::warn("job {} of api {}: cannot count its batches: {}", job.id, job.api,
                 counts.status().message());
    return std::nullopt;
  }
  const bool finished = counts->in_queue + counts->in_progress == 0;
  if (finished && job.kind == spec::kTaskKind) {
    if (counts->failed == 0) return std::pair{JobStatus::kSucceeded, std::string()};
    auto failed = queue_.Failed(running.view.queue_name, 1);
    return std::pair{JobStatus::kWorkerError, failed.ok() && !failed->empty()
                                                  ? (*failed)[0].error
                                                  : std::string("the task failed")};
  }
  if (!finished || job.kind != spec::kBatchKind) {
    if (observed.start_failing) {
      return std::pair{JobStatus::kWorkerError,
                       "its workers cannot start: " + FirstLine(observed.error)};
    }
    return std::nullopt;
  }
  // Every batch has run: on_job_complete() on a ready worker, then the verdict.
  const ReplicaStatus* worker = nullptr;
  for (const auto& r : observed.replicas) {
    if (r.state == ReplicaState::kReady) worker = &r;
  }
  if (worker == nullptr) {
    if (observed.start_failing) {
      return std::pair{JobStatus::kWorkerError, "no worker could start to run on_job_complete(): " +
                                                    FirstLine(observed.error)};
    }
    return std::nullopt;  // one is (re)starting
  }
  if (auto error = CallComplete(running, *worker)) {
    return std::pair{JobStatus::kWorkerError, *error};
  }
  return counts->failed > 0 ? std::pair{JobStatus::kCompletedWithFailures, std::string()}
                            : std::pair{JobStatus::kSucceeded, std::string()};
}

std::optional<std::string> JobRunner::CallComplete(const Running& running,
                                                   const ReplicaStatus& worker) {
  http::Request request =
      http::MakeRequest(bhttp::verb::post, "/predict", {}, "null", "application/json");
  request.set(kJobEventHeader, "complete");
  request.set("X-Request-ID", running.job.id + "-complete");
  const http::Peer peer{.host = worker.host.empty() ? "127.0.0.1" : worker.host,
                        .port = worker.port,
                        .unix_socket = worker.socket};
  auto answer = http::Fetch(peer, std::move(request), running.view.timeout);
  if (!answer.ok()) {
    return "worker " + worker.id +
           " did not answer on_job_complete(): " + answer.status().message();
  }
  if (answer->result_int() / 100 != 2) return ReplicaAnswerError(*answer);
  return std::nullopt;
}

std::vector<AsyncApiView> JobRunner::Views() const {
  std::lock_guard lock(mu_);
  std::vector<AsyncApiView> out;
  for (const auto& [key, running] : running_) {
    AsyncApiView view = running.view;
    for (auto& r : backend_.Observe(running.target.api).replicas) {
      if (r.state == ReplicaState::kReady) view.ready.push_back(std::move(r));
    }
    if (!view.ready.empty()) out.push_back(std::move(view));
  }
  return out;
}

void JobRunner::BatchFinished(const AsyncApiView& view, std::chrono::milliseconds elapsed) {
  if (Status s = jobs_.AddBatchTime(view.name, view.job_id, elapsed.count()); !s.ok()) {
    spdlog::warn("job {} of api {}: cannot record a batch's time: {}", view.job_id, view.name,
                 s.message());
  }
}

nlohmann::json JobRunner::Json(const Job& job, bool replicas) const {
  const nlohmann::json submission = nlohmann::json::parse(job.submission, nullptr, false);
  const bool ended = store::JobEnded(job.status);
  nlohmann::json out = {
      {"job_id", job.id},
      {"api_name", job.api},
      {"kind", job.kind},
      {"status", store::JobStatusName(job.status)},
      {"status_text", store::JobStatusText(job.status)},
      {"workers", job.workers},
      {"config", submission.is_object() ? submission.value("config", nlohmann::json::object())
                                        : nlohmann::json::object()},
      {"created_time", FormatLogTime(job.created_ms)},
      {"total_batches", job.total_batches}};
  if (submission.is_object() && submission.contains("timeout")) {
    out["timeout"] = submission["timeout"];
  }
  if (job.start_ms > 0) out["start_time"] = FormatLogTime(job.start_ms);
  if (job.end_ms > 0) out["end_time"] = FormatLogTime(job.end_ms);
  const std::string queue = JobQueueName(job.api, job.id);
  store::QueueCounts counts{
      .in_queue = job.final_in_queue, .completed = job.final_succeeded, .failed = job.final_failed};
  if (!ended) {
    if (auto now = queue_.CountAll(queue); now.ok()) counts = *now;
  }
  out["batches_in_queue"] = ended ? 0 : counts.in_queue;
  out["metrics"] = {
      {"succeeded", counts.completed},
      {"failed", counts.failed},
      {"avg_time_per_batch",
       job.batches_timed == 0 ? nlohmann::json(nullptr)
                              : nlohmann::json(static_cast<double>(job.batch_ms_total) /
                                               static_cast<double>(job.batches_timed) / 1000.0)}};
  int64_t initializing = 0, running = 0, restarting = 0;
  nlohmann::json workers = nlohmann::json::array();
  if (!ended) {
    for (const auto& r : backend_.Observe(JobWorkerName(job.api, job.id)).replicas) {
      if (r.state == ReplicaState::kStarting) ++initializing;
      if (r.state == ReplicaState::kReady) ++running;
      if (r.state == ReplicaState::kWaitingRestart) ++restarting;
      workers.push_back({{"id", r.id},
                         {"state", ReplicaStateName(r.state)},
                         {"pid", r.pid},
                         {"restarts", r.restarts}});
    }
  }
  out["worker_counts"] = {
      {"initializing", initializing}, {"running", running}, {"restarting", restarting}};
  if (!job.error.empty()) out["error"] = job.error;
  if (job.kind == spec::kBatchKind) {
    nlohmann::json failed = nlohmann::json::array();
    if (auto items = queue_.Failed(queue, kFailedShown); items.ok()) {
      for (const auto& item : *items) {
        failed.push_back({{"batch_id", item.id}, {"error", item.error}});
      }
    }
    out["failed_batches"] = std::move(failed);
  }
  if (replicas) out["replicas"] = std::move(workers);
  return out;
}

}  // namespace axon::operator_
