// AsyncDispatcher against a real HTTP server standing in for a replica and a real
// SqliteWorkQueue: answers complete or fail requests, a replica that cannot be reached gives
// them back until max_attempts, and leases an earlier operator held are released at start.
#include "operator/async_dispatcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/files.h"
#include "http/responses.h"
#include "http/server.h"
#include "store/sqlite_work_queue.h"

namespace axon::operator_ {
namespace {

namespace asio = http::asio;
using namespace std::chrono_literals;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AsyncDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("axon-dispatch-" + RandomHex(6));
    auto queue = store::SqliteWorkQueue::Open(dir_ / "queue.db");
    ASSERT_TRUE(queue.ok()) << queue.status().message();
    queue_ = std::move(queue).value();
    // The replica: "fail" is the predictor's error, anything else is echoed with its id.
    auto server = http::HttpServer::Create(
        {.threads = 1}, [](http::Request& req) -> asio::awaitable<http::Response> {
          if (req.body() == "fail") {
            co_return http::JsonError(500, "predict() raised ValueError: no");
          }
          co_return http::JsonResponse(
              200, {{"echo", req.body()}, {"id", std::string(req["X-Request-ID"])}});
        });
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    server_->Start();
  }
  void TearDown() override {
    StopServer();
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StopServer() {
    if (server_ == nullptr) return;
    server_->Shutdown(100ms);
    server_->Wait();
    server_.reset();
  }
  AsyncApiView Api(uint16_t port) const {
    AsyncApiView api{.name = "jobs", .timeout = 2s, .per_replica = 2, .queue_name = "jobs"};
    api.queue.max_attempts = 2;
    api.ready.push_back({.id = "jobs-1", .host = "127.0.0.1", .port = port});
    return api;
  }
  void Enqueue(const std::string& id, const std::string& payload) {
    ASSERT_TRUE(queue_
                    ->Enqueue({.queue = "jobs",
                               .id = id,
                               .payload = payload,
                               .content_type = "text/plain",
                               .max_attempts = 2},
                              Now())
                    .ok());
  }
  // Waits (at most 10 s) until `id` is finished; returns it.
  store::Item WaitFinished(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto item = queue_->Get("jobs", id);
      if (item.ok() && (item->status == store::ItemStatus::kCompleted ||
                        item->status == store::ItemStatus::kFailed)) {
        return *item;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "request " << id << " did not finish";
    return {};
  }
  AsyncDispatcher::Options Fast() const {
    return {.tick = 10ms, .expiry_check = 10ms, .retention_sweep = 10ms};
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::SqliteWorkQueue> queue_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(AsyncDispatcherTest, AnswersCompleteOrFailRequests) {
  Enqueue("a", "hello");
  Enqueue("b", "fail");
  const uint16_t port = server_->port();
  AsyncDispatcher dispatcher(Fast(), *queue_, [&] { return std::vector{Api(port)}; });
  const store::Item a = WaitFinished("a");
  EXPECT_EQ(a.status, store::ItemStatus::kCompleted);
  const auto result = nlohmann::json::parse(a.result);
  EXPECT_EQ(result["echo"], "hello");
  EXPECT_EQ(result["id"], "a");  // the request id is the request's
  EXPECT_EQ(a.result_type, "application/json");
  const store::Item b = WaitFinished("b");
  EXPECT_EQ(b.status, store::ItemStatus::kFailed);
  EXPECT_EQ(b.error, "predict() raised ValueError: no");
  EXPECT_EQ(b.attempts, 1);  // a predictor's error is not retried
}

TEST_F(AsyncDispatcherTest, AReplicaThatCannotBeReachedGivesRequestsBackUntilTheLimit) {
  Enqueue("a", "hello");
  // A port nothing listens on: the server's, once it has stopped.
  const uint16_t port = server_->port();
  StopServer();
  AsyncDispatcher dispatcher(Fast(), *queue_, [&] { return std::vector{Api(port)}; });
  const store::Item a = WaitFinished("a");
  EXPECT_EQ(a.status, store::ItemStatus::kFailed);
  EXPECT_EQ(a.error, "replica jobs-1 of api jobs stopped before answering (tried 2 times)");
  EXPECT_EQ(a.attempts, 2);
}

TEST_F(AsyncDispatcherTest, LeasesOfAnEarlierOperatorAreReleasedAtStart) {
  Enqueue("a", "hello");
  auto lease = queue_->Take("jobs", "operator", Now() + 3'600'000, Now());
  ASSERT_TRUE(lease.ok() && lease->has_value());
  {
    // No replica is ready: the request only goes back to the queue.
    AsyncDispatcher dispatcher(Fast(), *queue_, [] { return std::vector<AsyncApiView>{}; });
    for (int i = 0; i < 500 && queue_->Get("jobs", "a")->status != store::ItemStatus::kInQueue;
         ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  EXPECT_EQ(queue_->Get("jobs", "a")->status, store::ItemStatus::kInQueue);
  EXPECT_FALSE(*queue_->Complete(**lease, "late", "text/plain", Now()));
}

}  // namespace
}  // namespace axon::operator_
