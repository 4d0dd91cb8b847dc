#include "gateway/api_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "contract/routes.h"
#include "gateway/route_table.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
using namespace std::chrono_literals;

std::shared_ptr<const RouteTable> OneReplica(int64_t max_concurrency) {
  contract::RouteTable routes;
  contract::ApiRoute api{.name = "a", .endpoint = "/a", .max_replica_concurrency = max_concurrency};
  api.replicas.push_back({.id = "a-1", .host = "127.0.0.1", .port = 1});
  routes.apis.push_back(api);
  return *RouteTable::Build(routes, nullptr);
}

// Waits in `api`'s queue as the gateway does; records whether a wake-up (not the deadline)
// ended the wait and whether the request then got the replica.
asio::awaitable<void> WaitForSlot(const ApiRoute& api, std::chrono::milliseconds deadline,
                                  bool& woken, bool& acquired) {
  auto waiter = std::make_shared<ApiQueue::Waiter>(co_await asio::this_coro::executor);
  ReplicaTarget* got = nullptr;
  auto outcome = api.shared->queue.Enqueue(waiter, 10, [&] {
    got = api.AcquireReplica();
    return got != nullptr;
  });
  EXPECT_EQ(outcome, ApiQueue::Outcome::kQueued);
  waiter->timer.expires_after(deadline);
  http::beast::error_code ec;
  co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  woken = ec == asio::error::operation_aborted && !api.shared->queue.Remove(waiter);
  acquired = api.AcquireReplica() != nullptr;
}

TEST(ApiQueueTest, AFinishedRequestWakesAWaiter) {
  auto table = OneReplica(1);
  const ApiRoute& api = *table->Find("/a");
  ReplicaTarget* busy = api.AcquireReplica();
  ASSERT_NE(busy, nullptr);
  asio::io_context io;
  bool woken = false, acquired = false;
  asio::co_spawn(io, WaitForSlot(api, 60s, woken, acquired), asio::detached);
  io.run_for(50ms);  // the waiter is queued now
  EXPECT_EQ(api.shared->queue.size(), 1);
  std::thread finisher([&] { api.Release(busy); });  // as another I/O thread would
  finisher.join();
  io.run_for(10s);  // returns as soon as the waiter is done; the deadline is 60 s away
  EXPECT_TRUE(woken);
  EXPECT_TRUE(acquired);
  EXPECT_EQ(api.shared->queue.size(), 0);
}

TEST(ApiQueueTest, AFullQueueRefuses) {
  auto table = OneReplica(1);
  const ApiRoute& api = *table->Find("/a");
  ASSERT_NE(api.AcquireReplica(), nullptr);
  asio::io_context io;
  auto waiter = std::make_shared<ApiQueue::Waiter>(io.get_executor());
  auto never = [] { return false; };
  EXPECT_EQ(api.shared->queue.Enqueue(waiter, 1, never), ApiQueue::Outcome::kQueued);
  auto second = std::make_shared<ApiQueue::Waiter>(io.get_executor());
  EXPECT_EQ(api.shared->queue.Enqueue(second, 1, never), ApiQueue::Outcome::kFull);
  EXPECT_EQ(api.shared->queue.size(), 1);
  EXPECT_TRUE(api.shared->queue.Remove(waiter));
  EXPECT_FALSE(api.shared->queue.Remove(waiter));
  EXPECT_EQ(api.shared->queue.size(), 0);
}

TEST(ApiQueueTest, WakeAllWakesEveryWaiter) {
  auto table = OneReplica(1);
  const ApiRoute& api = *table->Find("/a");
  ReplicaTarget* busy = api.AcquireReplica();
  asio::io_context io;
  bool woken[3] = {}, acquired[3] = {};
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, WaitForSlot(api, 60s, woken[i], acquired[i]), asio::detached);
  }
  io.run_for(50ms);
  EXPECT_EQ(api.shared->queue.size(), 3);
  busy->in_flight--;  // freed without a wake-up, as when the table changes
  api.shared->queue.WakeAll();
  io.run_for(10s);
  EXPECT_TRUE(woken[0] && woken[1] && woken[2]);
  EXPECT_EQ(acquired[0] + acquired[1] + acquired[2], 1);  // one slot, one winner
}

// Many requests through one slot from two threads: every waiter is woken by a finished
// request, none has to sit until its (far) deadline. A lost wake-up would leave one asleep.
TEST(ApiQueueTest, NoLostWakeUpsUnderContention) {
  auto table = OneReplica(1);
  const ApiRoute& api = *table->Find("/a");
  constexpr int kPerThread = 300;
  std::atomic<int> done{0}, by_deadline{0};
  auto worker = [&] {
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < kPerThread; ++i) {
            ReplicaTarget* slot = nullptr;
            while (slot == nullptr) {
              slot = api.AcquireReplica();
              if (slot != nullptr) break;
              auto waiter = std::make_shared<ApiQueue::Waiter>(co_await asio::this_coro::executor);
              auto outcome = api.shared->queue.Enqueue(waiter, 100, [&] {
                slot = api.AcquireReplica();
                return slot != nullptr;
              });
              if (outcome != ApiQueue::Outcome::kQueued) continue;
              waiter->timer.expires_after(30s);
              http::beast::error_code ec;
              co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
              if (ec != asio::error::operation_aborted) by_deadline++;
              api.shared->queue.Remove(waiter);
            }
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            api.Release(slot);
            done++;
          }
        },
        asio::detached);
    io.run_for(60s);
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(done.load(), 2 * kPerThread);
  EXPECT_EQ(by_deadline.load(), 0);
}

}  // namespace
}  // namespace axon::gateway
