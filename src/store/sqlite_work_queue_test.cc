#include "store/sqlite_work_queue.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"

namespace axon::store {
namespace {

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("axon-queue-" + RandomHex(6));
    Reopen();
  }
  void TearDown() override {
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    queue_.reset();
    auto opened = SqliteWorkQueue::Open(dir_ / "queue.db");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    queue_ = std::move(opened).value();
  }
  NewItem Request(std::string id, int64_t max_attempts = 3, int64_t retention_ms = 1000) {
    std::string payload = "payload of " + id;
    return {.queue = "api",
            .id = std::move(id),
            .payload = std::move(payload),
            .content_type = "application/json",
            .max_attempts = max_attempts,
            .retention_ms = retention_ms};
  }
  Lease MustTake(std::string_view worker, int64_t deadline_ms, int64_t now_ms) {
    auto lease = queue_->Take("api", worker, deadline_ms, now_ms);
    EXPECT_TRUE(lease.ok()) << lease.status().message();
    EXPECT_TRUE(lease.ok() && lease->has_value());
    return lease.ok() && lease->has_value() ? **lease : Lease{};
  }
  ItemStatus StatusOf(std::string_view id) {
    auto item = queue_->Get("api", id);
    EXPECT_TRUE(item.ok()) << item.status().message();
    return item.ok() ? item->status : ItemStatus::kInQueue;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteWorkQueue> queue_;
};

TEST_F(WorkQueueTest, TakesInOrderAndCompletes) {
  ASSERT_TRUE(queue_->Enqueue(Request("a"), 10).ok());
  ASSERT_TRUE(queue_->Enqueue(Request("b"), 11).ok());
  EXPECT_EQ(queue_->Enqueue(Request("a"), 12).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(queue_->Counts("api")->in_queue, 2);

  Lease first = MustTake("w1", 1000, 20);
  EXPECT_EQ(first.id, "a");
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.payload, "payload of a");
  EXPECT_EQ(first.content_type, "application/json");
  EXPECT_EQ(StatusOf("a"), ItemStatus::kInProgress);
  EXPECT_EQ(queue_->Counts("api")->in_progress, 1);

  ASSERT_TRUE(*queue_->Complete(first, R"({"label": 1})", "application/json", 30));
  auto item = queue_->Get("api", "a");
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->status, ItemStatus::kCompleted);
  EXPECT_EQ(item->result, R"({"label": 1})");
  EXPECT_EQ(item->updated_ms, 30);
  EXPECT_EQ(item->created_ms, 10);
  // Completing twice is refused.
  EXPECT_FALSE(*queue_->Complete(first, "again", "text/plain", 31));

  EXPECT_EQ(MustTake("w1", 1000, 40).id, "b");
  auto none = queue_->Take("api", "w1", 1000, 41);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(queue_->Get("api", "zzz").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Get("other", "a").status().code(), StatusCode::kNotFound);
}

TEST_F(WorkQueueTest, AnExpiredLeaseGoesBackAndItsWorkerCannotFinishIt) {
  ASSERT_TRUE(queue_->Enqueue(Request("a"), 0).ok());
  Lease stale = MustTake("w1", 100, 1);
  EXPECT_EQ(*queue_->ExpireLeases(99), 0);
  EXPECT_EQ(StatusOf("a"), ItemStatus::kInProgress);
  EXPECT_EQ(*queue_->ExpireLeases(100), 1);
  EXPECT_EQ(StatusOf("a"), ItemStatus::kInQueue);

  Lease fresh = MustTake("w2", 500, 101);
  EXPECT_EQ(fresh.attempt, 2);
  EXPECT_FALSE(*queue_->Complete(stale, "late", "text/plain", 102));
  EXPECT_FALSE(*queue_->GiveBack(stale, "late", 102));
  EXPECT_EQ(StatusOf("a"), ItemStatus::kInProgress);
  EXPECT_TRUE(*queue_->Complete(fresh, "done", "text/plain", 103));
  EXPECT_EQ(queue_->Get("api", "a")->result, "done");
}

TEST_F(WorkQueueTest, TheRetryLimitFailsTheItemWithTheReason) {
  ASSERT_TRUE(queue_->Enqueue(Request("a", /*max_attempts=*/2), 0).ok());
  ASSERT_TRUE(*queue_->GiveBack(MustTake("w", 100, 1), "replica r1 stopped", 2));
  EXPECT_EQ(StatusOf("a"), ItemStatus::kInQueue);
  ASSERT_TRUE(*queue_->GiveBack(MustTake("w", 100, 3), "replica r2 stopped", 4));
  auto item = queue_->Get("api", "a");
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->status, ItemStatus::kFailed);
  EXPECT_EQ(item->error, "replica r2 stopped (tried 2 times)");
  EXPECT_EQ(item->attempts, 2);
  auto none = queue_->Take("api", "w", 100, 5);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(WorkQueueTest, ExpiryCountsTowardsTheRetryLimit) {
  ASSERT_TRUE(queue_->Enqueue(Request("a", /*max_attempts=*/1), 0).ok());
  (void)MustTake("w", 10, 1);
  EXPECT_EQ(*queue_->ExpireLeases(10), 1);
  EXPECT_EQ(StatusOf("a"), ItemStatus::kFailed);
}

TEST_F(WorkQueueTest, FailKeepsTheError) {
  ASSERT_TRUE(queue_->Enqueue(Request("a"), 0).ok());
  ASSERT_TRUE(*queue_->Fail(MustTake("w", 10, 1), "ValueError: bad input", 2));
  auto item = queue_->Get("api", "a");
  EXPECT_EQ(item->status, ItemStatus::kFailed);
  EXPECT_EQ(item->error, "ValueError: bad input");
  EXPECT_EQ(item->attempts, 1);
}

TEST_F(WorkQueueTest, RetentionRemovesFinishedItemsOnly) {
  ASSERT_TRUE(queue_->Enqueue(Request("done", 3, /*retention_ms=*/1000), 0).ok());
  ASSERT_TRUE(queue_->Enqueue(Request("waiting", 3, 1000), 0).ok());
  ASSERT_TRUE(*queue_->Complete(MustTake("w", 10'000, 1), "r", "text/plain", 100));
  EXPECT_EQ(*queue_->RemoveExpired(1099), 0);
  EXPECT_EQ(StatusOf("done"), ItemStatus::kCompleted);
  EXPECT_EQ(*queue_->RemoveExpired(1100), 1);
  EXPECT_EQ(queue_->Get("api", "done").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*queue_->RemoveExpired(1'000'000), 0);  // a waiting item is never removed
  EXPECT_EQ(StatusOf("waiting"), ItemStatus::kInQueue);
}

TEST_F(WorkQueueTest, ARestartKeepsItemsAndLeases) {
  ASSERT_TRUE(queue_->Enqueue(Request("a"), 0).ok());
  ASSERT_TRUE(queue_->Enqueue(Request("b"), 1).ok());
  ASSERT_TRUE(queue_->Enqueue(Request("c"), 2).ok());
  ASSERT_TRUE(*queue_->Complete(MustTake("op-1", 100, 3), "ra", "text/plain", 4));
  (void)MustTake("op-1", 100, 5);  // b, leased when the process died
  Reopen();
  EXPECT_EQ(queue_->Get("api", "a")->result, "ra");
  EXPECT_EQ(StatusOf("b"), ItemStatus::kInProgress);
  EXPECT_EQ(StatusOf("c"), ItemStatus::kInQueue);
  // The new process gives back what the old one held, before its deadline.
  EXPECT_EQ(*queue_->ReleaseWorker("op-1", 6), 1);
  EXPECT_EQ(StatusOf("b"), ItemStatus::kInQueue);
  // Order is kept: b was enqueued before c.
  EXPECT_EQ(MustTake("op-2", 100, 7).id, "b");
  EXPECT_EQ(MustTake("op-2", 100, 8).id, "c");
}

TEST_F(WorkQueueTest, DropQueueRemovesOnlyThatQueue) {
  ASSERT_TRUE(queue_->Enqueue(Request("a"), 0).ok());
  NewItem other = Request("a");
  other.queue = "other";
  ASSERT_TRUE(queue_->Enqueue(other, 0).ok());
  ASSERT_TRUE(queue_->DropQueue("api").ok());
  EXPECT_EQ(queue_->Get("api", "a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(queue_->Get("other", "a").ok());
}

TEST_F(WorkQueueTest, BinaryPayloadsSurvive) {
  NewItem item = Request("bin");
  item.payload = std::string("\0\x01\xff zero", 8);
  ASSERT_TRUE(queue_->Enqueue(item, 0).ok());
  EXPECT_EQ(MustTake("w", 10, 1).payload, item.payload);
}

TEST_F(WorkQueueTest, EnqueueAllStoresEveryItemOrNone) {
  ASSERT_TRUE(queue_->EnqueueAll({Request("b0"), Request("b1"), Request("b2")}, 0).ok());
  EXPECT_EQ(queue_->Counts("api")->in_queue, 3);
  EXPECT_EQ(MustTake("w", 10, 1).id, "b0");  // in order
  // b1 is there already: the whole call fails and stores nothing of it.
  EXPECT_EQ(queue_->EnqueueAll({Request("b3"), Request("b1")}, 2).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(queue_->Get("api", "b3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Counts("api")->in_queue, 2);
}

TEST_F(WorkQueueTest, CountAllCountsFinishedItemsAndFailedListsTheDeadLetters) {
  ASSERT_TRUE(queue_->EnqueueAll({Request("a"), Request("b"), Request("c"), Request("d")}, 0).ok());
  ASSERT_TRUE(*queue_->Complete(MustTake("w", 10, 1), "ok", "text/plain", 2));
  ASSERT_TRUE(*queue_->Fail(MustTake("w", 10, 3), "b broke", 4));
  MustTake("w", 10, 5);  // c runs
  auto all = queue_->CountAll("api");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->in_queue, 1);
  EXPECT_EQ(all->in_progress, 1);
  EXPECT_EQ(all->completed, 1);
  EXPECT_EQ(all->failed, 1);
  // Counts() leaves the finished ones out.
  EXPECT_EQ(queue_->Counts("api")->completed, 0);
  auto failed = queue_->Failed("api", 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, "b");
  EXPECT_EQ((*failed)[0].error, "b broke");
  EXPECT_EQ(queue_->Failed("api", 0)->size(), 0u);
}

TEST_F(WorkQueueTest, AFileThatIsNotADatabaseIsAnError) {
  queue_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  ASSERT_TRUE(WriteFileAtomic(dir_ / "queue.db", std::string(4096, 'x')).ok());
  auto opened = SqliteWorkQueue::Open(dir_ / "queue.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("Move it aside"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace axon::store
