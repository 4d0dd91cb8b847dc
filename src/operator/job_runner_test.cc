// JobRunner with real SQLite stores and a fake ApiBackend (named as such: it records what is
// applied and answers what a test sets, which is how a job's end is driven here; real workers
// run in tests/integration/test_jobs.py). Covers what a real platform will not produce on
// demand: a job caught enqueuing by an operator restart, a stop during a pass, each end.
#include "operator/job_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/files.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_work_queue.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using store::JobStatus;

class FakeBackend final : public ApiBackend {
 public:
  void Apply(const ApiTarget& target) override {
    std::lock_guard lock(mu_);
    applied_[target.api] = target;
  }
  void Remove(const std::string& api) override {
    std::lock_guard lock(mu_);
    applied_.erase(api);
    removed_.push_back(api);
  }
  ApiObservation Observe(const std::string& api) const override {
    std::lock_guard lock(mu_);
    auto it = observed_.find(api);
    return it != observed_.end() && applied_.contains(api) ? it->second : ApiObservation{};
  }
  bool Starting() const override { return false; }
  void Reconcile() override {}
  void RoutesPublished(bool) override {}
  void StopAll() override {}

  void SetObserved(const std::string& api, ApiObservation observed) {
    std::lock_guard lock(mu_);
    observed_[api] = std::move(observed);
  }
  std::optional<ApiTarget> Applied(const std::string& api) const {
    std::lock_guard lock(mu_);
    auto it = applied_.find(api);
    return it == applied_.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::string> Removed() const {
    std::lock_guard lock(mu_);
    return removed_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, ApiTarget> applied_;
  std::map<std::string, ApiObservation> observed_;
  std::vector<std::string> removed_;
};

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("axon-jobs-" + RandomHex(6));
    fs::create_directories(dir_ / "bundle");
    ASSERT_TRUE(WriteFileAtomic(dir_ / "bundle" / "predictor.py", "").ok());
    auto jobs = store::SqliteJobStore::Open(dir_ / "jobs.db");
    auto queue = store::SqliteWorkQueue::Open(dir_ / "queue.db");
    ASSERT_TRUE(jobs.ok() && queue.ok());
    jobs_ = std::move(jobs).value();
    queue_ = std::move(queue).value();
    NewRunner();
  }
  void TearDown() override {
    runner_.reset();
    fs::remove_all(dir_);
  }
  void NewRunner() {
    runner_.reset();
    runner_ = std::make_unique<JobRunner>(JobRunner::Options{.home = {.root = dir_}, .tick = 10ms},
                                          *jobs_, *queue_, backend_, nullptr);
  }
  ApiTarget Api(std::string_view kind) const {
    ApiTarget api{.api = "sums", .version = 3, .revision = 7, .bundle = "b1", .replicas = 0};
    api.spec.name = "sums";
    api.spec.kind = std::string(kind);
    api.spec.predictor.type = "python";
    api.spec.predictor.path = (dir_ / "bundle" / "predictor.py").string();
    api.spec.predictor.config = {{"scale", 1}, {"keep", true}};
    api.spec.queue.max_attempts = 2;
    return api;
  }
  store::Job Submit(std::string_view kind, std::string_view body) {
    auto job = runner_->Submit(Api(kind), body);
    EXPECT_TRUE(job.ok()) << job.status().message();
    return job.ok() ? *job : store::Job{};
  }
  // Waits (at most 10 s) until the runner's passes have ended the job; returns it.
  store::Job WaitEnded(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto job = jobs_->Get("sums", id);
      if (job.ok() && store::JobEnded(job->status)) return *job;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return {};
  }
  // Waits (at most 10 s) until the runner has dropped what an ended job left: it records the end
  // first, then drops the queue's items and the job's folder.
  bool WaitDropped(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto counts = queue_->CountAll(JobQueueName("sums", id));
      if (counts.ok() && counts->in_queue == 0 && !fs::exists(dir_ / "jobs" / "sums" / id)) {
        return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  // Runs every item of the job's queue to the end: completed, or failed for those in `fail`.
  void RunItems(const std::string& id, const std::set<std::string>& fail = {}) {
    const std::string queue = JobQueueName("sums", id);
    while (true) {
      auto lease = queue_->Take(queue, "test", UnixNowMs() + 10'000, UnixNowMs());
      ASSERT_TRUE(lease.ok());
      if (!lease->has_value()) return;
      if (fail.contains((*lease)->id)) {
        ASSERT_TRUE(*queue_->Fail(**lease, "predict() raised ValueError: bad", UnixNowMs()));
      } else {
        ASSERT_TRUE(*queue_->Complete(**lease, "", "", UnixNowMs()));
      }
    }
  }

  fs::path dir_;
  std::unique_ptr<store::SqliteJobStore> jobs_;
  std::unique_ptr<store::SqliteWorkQueue> queue_;
  FakeBackend backend_;
  std::unique_ptr<JobRunner> runner_;
};

TEST_F(JobRunnerTest, ASubmissionStoresItsBatchesAndAppliesItsOwnWorkers) {
  const store::Job job = Submit(spec::kBatchKind, R"({"workers": 3, "config": {"scale": 5},
      "item_list": {"items": [1, 2, 3], "batch_size": 2}})");
  EXPECT_EQ(job.status, JobStatus::kRunning);
  EXPECT_EQ(job.total_batches, 2);
  EXPECT_EQ(queue_->Counts(JobQueueName("sums", job.id))->in_queue, 2);
  auto target = backend_.Applied(JobWorkerName("sums", job.id));
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->replicas, 3);
  EXPECT_EQ(target->version, 3);
  EXPECT_EQ(target->bundle, "b1");
  // The job's config is merged over the API's; the predictor finds its job spec.
  EXPECT_EQ(target->spec.predictor.config["scale"], 5);
  EXPECT_EQ(target->spec.predictor.config["keep"], true);
  const auto job_file = target->spec.predictor.env.at("AXON_JOB_FILE");
  const auto job_spec = nlohmann::json::parse(*ReadFile(job_file));
  EXPECT_EQ(job_spec["job_id"], job.id);
  EXPECT_EQ(job_spec["total_batches"], 2);
  EXPECT_TRUE(fs::exists(target->spec_file));
  // The dispatcher sees the job once a worker is ready, one batch per worker, retrying errors.
  EXPECT_TRUE(runner_->Views().empty());
  backend_.SetObserved(target->api, {.replicas = {{.id = "w1", .state = ReplicaState::kReady}}});
  auto views = runner_->Views();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].queue_name, JobQueueName("sums", job.id));
  EXPECT_EQ(views[0].per_replica, 1);
  EXPECT_TRUE(views[0].retry_errors);
  EXPECT_EQ(views[0].ready.size(), 1u);
}

TEST_F(JobRunnerTest, EndsEachWayAndDropsWhatIsLeft) {
  runner_->Start();
  // A task whose one run failed: a worker error, with the run's error.
  const store::Job failing = Submit(spec::kTaskKind, R"({"config": {"x": 1}})");
  RunItems(failing.id, {"0"});
  store::Job ended = WaitEnded(failing.id);
  EXPECT_EQ(ended.status, JobStatus::kWorkerError);
  EXPECT_EQ(ended.error, "predict() raised ValueError: bad");
  EXPECT_EQ(ended.final_failed, 1);
  EXPECT_FALSE(backend_.Applied(JobWorkerName("sums", failing.id)).has_value());
  EXPECT_TRUE(WaitDropped(failing.id)) << "the job's folder is left";

  const store::Job task = Submit(spec::kTaskKind, "");
  RunItems(task.id);
  EXPECT_EQ(WaitEnded(task.id).status, JobStatus::kSucceeded);

  // Workers that cannot start.
  const store::Job broken = Submit(spec::kBatchKind, R"({"item_list": {"items": [1]}})");
  backend_.SetObserved(
      JobWorkerName("sums", broken.id),
      {.error = "predictor failed to load: ImportError: x\nmore", .start_failing = true});
  ended = WaitEnded(broken.id);
  EXPECT_EQ(ended.status, JobStatus::kWorkerError);
  EXPECT_EQ(ended.error, "its workers cannot start: predictor failed to load: ImportError: x");
  EXPECT_EQ(ended.final_in_queue, 1);
  EXPECT_TRUE(WaitDropped(broken.id)) << "the job's batches are left in its queue";

  // A timeout.
  const store::Job slow =
      Submit(spec::kBatchKind, R"({"item_list": {"items": [1]}, "timeout": 1})");
  ended = WaitEnded(slow.id);
  EXPECT_EQ(ended.status, JobStatus::kTimedOut);
  EXPECT_NE(ended.error.find("timeout of 1 s"), std::string::npos) << ended.error;

  // A stop; a second stop changes nothing.
  const store::Job stopped = Submit(spec::kBatchKind, R"({"item_list": {"items": [1, 2]}})");
  auto after = runner_->Stop("sums", stopped.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, JobStatus::kStopped);
  EXPECT_EQ(after->final_in_queue, 2);
  EXPECT_EQ(runner_->Stop("sums", stopped.id)->end_ms, after->end_ms);
  // A pass that copied the job before the stop does not apply its workers again afterwards.
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(backend_.Applied(JobWorkerName("sums", stopped.id)).has_value());
}

TEST_F(JobRunnerTest, AReloadSettlesEnqueuingJobsAndAppliesRunningOnesAgain) {
  const store::Job running = Submit(spec::kBatchKind, R"({"item_list": {"items": [1, 2]}})");
  // An operator killed while it stored a job's batches: none of them are there (they go in one
  // transaction), or all are.
  store::Job cut{.api = "sums",
                 .id = "00000000000000aa",
                 .kind = "BatchAPI",
                 .status = JobStatus::kEnqueuing,
                 .workers = 1,
                 .total_batches = 3};
  ASSERT_TRUE(jobs_->Create(cut).ok());
  store::Job whole = cut;
  whole.id = "00000000000000bb";
  whole.total_batches = 1;
  ASSERT_TRUE(jobs_->Create(whole).ok());
  ASSERT_TRUE(queue_
                  ->Enqueue({.queue = JobQueueName("sums", whole.id), .id = "0", .payload = "[1]"},
                            UnixNowMs())
                  .ok());

  backend_.Remove(JobWorkerName("sums", running.id));  // the new operator starts with nothing
  NewRunner();
  ASSERT_TRUE(runner_->Load().ok());
  EXPECT_TRUE(backend_.Applied(JobWorkerName("sums", running.id)).has_value());
  EXPECT_EQ(jobs_->Get("sums", cut.id)->status, JobStatus::kEnqueueFailed);
  // The whole one has no worker files (made by hand here): it cannot go on, and says why.
  const store::Job settled = *jobs_->Get("sums", whole.id);
  EXPECT_EQ(settled.status, JobStatus::kUnexpectedError);
  EXPECT_NE(settled.error.find("could not be started again"), std::string::npos) << settled.error;
}

TEST_F(JobRunnerTest, JsonShowsCountsWorkersAndDeadLetters) {
  const store::Job job = Submit(spec::kBatchKind, R"({"item_list": {"items": [1, 2, 3]}})");
  RunItems(job.id, {"1"});
  backend_.SetObserved(JobWorkerName("sums", job.id),
                       {.replicas = {{.id = "w1", .state = ReplicaState::kReady, .pid = 42},
                                     {.id = "w2", .state = ReplicaState::kStarting}}});
  const nlohmann::json json = runner_->Json(*jobs_->Get("sums", job.id), true);
  EXPECT_EQ(json["status"], "running");
  EXPECT_EQ(json["metrics"]["succeeded"], 2);
  EXPECT_EQ(json["metrics"]["failed"], 1);
  EXPECT_EQ(json["batches_in_queue"], 0);
  EXPECT_EQ(json["worker_counts"]["running"], 1);
  EXPECT_EQ(json["worker_counts"]["initializing"], 1);
  EXPECT_EQ(json["replicas"][0]["pid"], 42);
  ASSERT_EQ(json["failed_batches"].size(), 1u);
  EXPECT_EQ(json["failed_batches"][0]["batch_id"], "1");
  EXPECT_TRUE(json["metrics"]["avg_time_per_batch"].is_null());
}

}  // namespace
}  // namespace axon::operator_
