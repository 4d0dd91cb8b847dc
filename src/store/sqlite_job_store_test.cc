#include "store/sqlite_job_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"

namespace axon::store {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("axon-jobs-" + RandomHex(6));
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto opened = SqliteJobStore::Open(dir_ / "jobs.db");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }
  static Job NewJob(std::string api, std::string id, int64_t created_ms = 1) {
    return {.api = std::move(api),
            .id = std::move(id),
            .kind = "BatchAPI",
            .api_version = 2,
            .submission = R"({"workers":2})",
            .workers = 2,
            .total_batches = 5,
            .timeout_ms = 60'000,
            .created_ms = created_ms};
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteJobStore> store_;
};

TEST_F(JobStoreTest, AJobSurvivesAReopenAsItWasStored) {
  ASSERT_TRUE(store_->Create(NewJob("sum", "j1")).ok());
  EXPECT_EQ(store_->Create(NewJob("sum", "j1")).code(), StatusCode::kAlreadyExists);
  Reopen();
  auto job = store_->Get("sum", "j1");
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->kind, "BatchAPI");
  EXPECT_EQ(job->api_version, 2);
  EXPECT_EQ(job->status, JobStatus::kEnqueuing);
  EXPECT_EQ(job->submission, R"({"workers":2})");
  EXPECT_EQ(job->workers, 2);
  EXPECT_EQ(job->total_batches, 5);
  EXPECT_EQ(job->timeout_ms, 60'000);
  EXPECT_EQ(store_->Get("sum", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("other", "j1").status().code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, TransitionsSetTimesAndAnEndedJobNeverChanges) {
  ASSERT_TRUE(store_->Create(NewJob("sum", "j1")).ok());
  ASSERT_TRUE(*store_->Transition("sum", "j1", JobStatus::kRunning, {}, 10));
  EXPECT_EQ(store_->Get("sum", "j1")->start_ms, 10);
  ASSERT_TRUE(*store_->Transition("sum", "j1", JobStatus::kRunning, {}, 20));
  EXPECT_EQ(store_->Get("sum", "j1")->start_ms, 10);  // started once
  ASSERT_TRUE(*store_->Transition("sum", "j1", JobStatus::kCompletedWithFailures,
                                  {.error = "", .succeeded = 4, .failed = 1, .in_queue = 0}, 30));
  auto job = store_->Get("sum", "j1");
  EXPECT_EQ(job->status, JobStatus::kCompletedWithFailures);
  EXPECT_EQ(job->end_ms, 30);
  EXPECT_EQ(job->final_succeeded, 4);
  EXPECT_EQ(job->final_failed, 1);
  // A stop after the end changes nothing.
  EXPECT_FALSE(*store_->Transition("sum", "j1", JobStatus::kStopped, {.error = "late"}, 40));
  EXPECT_EQ(store_->Get("sum", "j1")->status, JobStatus::kCompletedWithFailures);
  EXPECT_EQ(store_->Get("sum", "j1")->end_ms, 30);
}

TEST_F(JobStoreTest, ListIsNewestFirstAndUnfinishedSpansApis) {
  ASSERT_TRUE(store_->Create(NewJob("sum", "old", 1)).ok());
  ASSERT_TRUE(store_->Create(NewJob("sum", "new", 2)).ok());
  ASSERT_TRUE(store_->Create(NewJob("other", "x", 3)).ok());
  ASSERT_TRUE(*store_->Transition("sum", "old", JobStatus::kStopped, {}, 5));
  auto listed = store_->List("sum", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "new");
  EXPECT_EQ((*listed)[1].id, "old");
  EXPECT_EQ(store_->List("sum", 1)->size(), 1u);
  auto unfinished = store_->Unfinished();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[0].id, "new");
  EXPECT_EQ((*unfinished)[1].id, "x");
}

TEST_F(JobStoreTest, BatchTimesAddUpAndDeleteApiRemovesOnlyThatApi) {
  ASSERT_TRUE(store_->Create(NewJob("sum", "j1")).ok());
  ASSERT_TRUE(store_->Create(NewJob("other", "j1")).ok());
  ASSERT_TRUE(store_->AddBatchTime("sum", "j1", 30).ok());
  ASSERT_TRUE(store_->AddBatchTime("sum", "j1", 50).ok());
  EXPECT_EQ(store_->Get("sum", "j1")->batch_ms_total, 80);
  EXPECT_EQ(store_->Get("sum", "j1")->batches_timed, 2);
  ASSERT_TRUE(store_->DeleteApi("sum").ok());
  EXPECT_EQ(store_->Get("sum", "j1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get("other", "j1").ok());
}

TEST(JobStatus, NamesAreCortexs) {
  EXPECT_EQ(JobStatusName(JobStatus::kCompletedWithFailures), "completed_with_failures");
  EXPECT_EQ(JobStatusText(JobStatus::kCompletedWithFailures), "completed with failures");
  EXPECT_EQ(JobStatusText(JobStatus::kEnqueueFailed), "failed while enqueuing");
  EXPECT_EQ(JobStatusText(JobStatus::kRunning), "running");
  EXPECT_FALSE(JobEnded(JobStatus::kRunning));
  EXPECT_TRUE(JobEnded(JobStatus::kTimedOut));
}

}  // namespace
}  // namespace axon::store
