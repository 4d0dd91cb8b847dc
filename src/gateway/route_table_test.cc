#include "gateway/route_table.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

#include "common/sha256.h"

namespace axon::gateway {
namespace {

nlohmann::json Table(int replicas, int64_t max_concurrency = 2) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < replicas; ++i) {
    list.push_back({{"id", "r" + std::to_string(i)}, {"host", "127.0.0.1"}, {"port", 9000 + i}});
  }
  return {{"apis",
           {{{"name", "iris"},
             {"endpoint", "/iris"},
             {"max_replica_concurrency", max_concurrency},
             {"replicas", list}}}}};
}

// Builds a runtime table from the operator's JSON, as the gateway does.
StatusOr<std::shared_ptr<const RouteTable>> FromJson(const nlohmann::json& json,
                                                     const RouteTable* previous) {
  auto routes = contract::RouteTableFromJson(json);
  if (!routes.ok()) return routes.status();
  return RouteTable::Build(*routes, previous);
}

TEST(RouteTableTest, FindsApisByExactEndpoint) {
  auto table = FromJson(Table(1), nullptr);
  ASSERT_TRUE(table.ok()) << table.status().message();
  ASSERT_NE((*table)->Find("/iris"), nullptr);
  EXPECT_EQ((*table)->Find("/iris")->name(), "iris");
  EXPECT_EQ((*table)->Find("/iri"), nullptr);
  EXPECT_EQ((*table)->Find("/iris/x"), nullptr);
}

TEST(RouteTableTest, PicksLeastLoadedReplica) {
  auto table = *FromJson(Table(3, 10), nullptr);
  const ApiRoute& api = *table->Find("/iris");
  api.replicas[0]->in_flight = 3;
  api.replicas[1]->in_flight = 1;
  api.replicas[2]->in_flight = 2;
  for (int i = 0; i < 6; ++i) {
    ReplicaTarget* picked = api.AcquireReplica();
    EXPECT_EQ(picked->id, "r1");
    picked->in_flight--;
  }
  EXPECT_EQ(api.AcquireReplica(api.replicas[1].get())->id, "r2");
}

TEST(RouteTableTest, FullReplicasAreNotPicked) {
  auto table = *FromJson(Table(2, 2), nullptr);
  const ApiRoute& api = *table->Find("/iris");
  api.replicas[0]->in_flight = 2;
  api.replicas[1]->in_flight = 1;
  EXPECT_EQ(api.AcquireReplica()->id, "r1");
  EXPECT_EQ(api.AcquireReplica(), nullptr);
  EXPECT_EQ(api.InFlight(), 4);
}

TEST(RouteTableTest, AcquireCountsTheRequestAndStopsAtTheLimit) {
  auto table = *FromJson(Table(2, 2), nullptr);
  const ApiRoute& api = *table->Find("/iris");
  for (int i = 0; i < 4; ++i) ASSERT_NE(api.AcquireReplica(), nullptr);
  EXPECT_EQ(api.replicas[0]->in_flight.load(), 2);
  EXPECT_EQ(api.replicas[1]->in_flight.load(), 2);
  EXPECT_EQ(api.AcquireReplica(), nullptr);
  api.replicas[1]->in_flight--;
  EXPECT_EQ(api.AcquireReplica(api.replicas[1].get()), nullptr);
  EXPECT_EQ(api.AcquireReplica()->id, "r1");
  EXPECT_EQ(api.InFlight(), 4);
}

// Regression: picking and counting were two steps, so concurrent requests could all see a free
// replica and overshoot max_replica_concurrency.
TEST(RouteTableTest, ConcurrentAcquiresNeverOvershootTheLimit) {
  constexpr int kLimit = 3;
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  auto table = *FromJson(Table(1, kLimit), nullptr);
  const ApiRoute& api = *table->Find("/iris");
  std::atomic<int64_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        ReplicaTarget* replica = api.AcquireReplica();
        if (replica == nullptr) continue;
        const int64_t now = replica->in_flight.load();
        int64_t seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        api.Release(replica);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(peak.load(), kLimit);
  EXPECT_EQ(api.InFlight(), 0);
}

TEST(RouteTableTest, CountersSurviveRouteUpdates) {
  auto first = *FromJson(Table(1), nullptr);
  const ApiRoute& before = *first->Find("/iris");
  before.shared->stats.Record(200, std::chrono::microseconds(10), before.replicas[0]->responses);
  before.replicas[0]->in_flight = 1;
  auto second = *FromJson(Table(2), first.get());
  const ApiRoute& api = *second->Find("/iris");
  EXPECT_EQ(second->Stats(0).apis.at("iris").responses_2xx, 1U);
  EXPECT_EQ(api.replicas[0]->responses->Get(200), 1U);
  EXPECT_EQ(api.replicas[0]->in_flight.load(), 1);
  EXPECT_EQ(api.replicas[1]->in_flight.load(), 0);
}

TEST(RouteTableTest, RejectsMalformedTables) {
  EXPECT_FALSE(FromJson({{"apis", {{{"name", "x"}}}}}, nullptr).ok());
  auto bad_host = Table(1);
  bad_host["apis"][0]["replicas"][0]["host"] = "not-an-ip";
  EXPECT_FALSE(FromJson(bad_host, nullptr).ok());
  EXPECT_FALSE(FromJson(nlohmann::json::array(), nullptr).ok());
  auto twice = Table(1);
  twice["apis"].push_back(twice["apis"][0]);
  EXPECT_FALSE(FromJson(twice, nullptr).ok());
}

TEST(ApiStatsTest, CountsByStatusClass) {
  auto table = *FromJson(Table(1), nullptr);
  const ApiRoute& api = *table->Find("/iris");
  ApiStats& stats = api.shared->stats;
  StatusCounters* replica = api.replicas[0]->responses;
  stats.Record(200, std::chrono::microseconds(5), replica);
  stats.Record(404, std::chrono::microseconds(5), nullptr);  // refused before a replica
  stats.Record(503, std::chrono::microseconds(5), replica);
  stats.Record(302, std::chrono::microseconds(5), replica);
  const contract::ApiStats s = table->Stats(0).apis.at("iris");
  EXPECT_EQ(s.responses_2xx, 1U);  // a 3xx is none of the three
  EXPECT_EQ(s.responses_4xx, 1U);
  EXPECT_EQ(s.responses_5xx, 1U);
  EXPECT_EQ(s.latency_us_total, 20U);
  EXPECT_EQ(s.recent.requests, 4U);  // all within the last minute
  EXPECT_EQ(replica->Get(503), 1U);
  EXPECT_EQ(replica->Get(404), 0U);
}

TEST(ApiStatsTest, RecentLatencyCoversOnlyTheLastMinute) {
  ApiStats stats;
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  stats.Record(200, std::chrono::milliseconds(2000), nullptr);
  stats.AddSample(t0 + 1000, 0);  // the slow answer is before this snapshot
  for (int i = 0; i < 4; ++i) stats.Record(200, std::chrono::microseconds(1500), nullptr);
  const int64_t later = t0 + 1000 + ApiStats::kRecentWindowMs;
  stats.AddSample(later, 0);
  const auto [recent, window_ms] = stats.RecentLatency(later);
  EXPECT_EQ(window_ms, ApiStats::kRecentWindowMs);
  EXPECT_EQ(recent.Count(), 4U);
  EXPECT_GT(recent.Quantile(0.99), 1000);  // in (1 ms, 2.5 ms], not the 2 s answer
  EXPECT_LE(recent.Quantile(0.99), 2500);
}

}  // namespace
}  // namespace axon::gateway

namespace axon::gateway {
namespace {

TEST(RouteTableTest, ApiKeys) {
  auto json = Table(1);
  auto open = *FromJson(json, nullptr);
  EXPECT_FALSE(open->Find("/iris")->KeyRejected(""));
  json["apis"][0]["api_key_hashes"] = {Sha256Hex("secret-1")};
  auto keyed = *FromJson(json, nullptr);
  const ApiRoute& api = *keyed->Find("/iris");
  EXPECT_TRUE(api.KeyRejected(""));
  EXPECT_TRUE(api.KeyRejected("secret-2"));
  EXPECT_FALSE(api.KeyRejected("secret-1"));
  json["apis"][0]["api_key_hashes"] = nlohmann::json::array();
  json["apis"][0]["api_keys_required"] = true;
  EXPECT_TRUE((*FromJson(json, nullptr))->Find("/iris")->KeyRejected("secret-1"));
}

TEST(RouteTableTest, QueueLimits) {
  auto json = Table(2);
  json["apis"][0]["max_queue_length"] = 5;
  EXPECT_EQ((*FromJson(json, nullptr))->Find("/iris")->QueueLimit(), 10);
  json = Table(0);
  json["apis"][0]["max_held"] = 7;
  EXPECT_EQ((*FromJson(json, nullptr))->Find("/iris")->QueueLimit(), 7);  // one is coming
  json["apis"][0]["start_failing"] = true;
  EXPECT_EQ((*FromJson(json, nullptr))->Find("/iris")->QueueLimit(), 0);  // none is
}

TEST(RouteTableTest, ReadsUnixSockets) {
  auto json = Table(1);
  json["apis"][0]["replicas"][0]["socket"] = "@axon-x";
  auto table = *FromJson(json, nullptr);
  const auto& replica = *table->Find("/iris")->replicas[0];
  ASSERT_TRUE(replica.local_endpoint.has_value());
  EXPECT_EQ(replica.local_endpoint->path(), std::string("\0axon-x", 7));
  EXPECT_EQ(table->LocalEndpoints().size(), 1U);
}

// Regression: a replica restarted in the same slot keeps its id but gets a new port; the
// gateway must send to the new address, not keep the old target.
TEST(RouteTableTest, ARestartedReplicaGetsItsNewAddress) {
  auto first = *FromJson(Table(1), nullptr);
  auto moved = Table(1);
  moved["apis"][0]["replicas"][0]["port"] = 9100;
  auto second = *FromJson(moved, first.get());
  EXPECT_EQ(second->Find("/iris")->replicas[0]->endpoint.port(), 9100);
}

}  // namespace
}  // namespace axon::gateway

namespace axon::gateway {
namespace {

// Regression: a replica that had just died kept no requests in flight, so it was every
// request's least loaded pick (each failing at once) until the operator removed it.
TEST(RouteTableTest, AFailedReplicaIsPassedOver) {
  auto routes = contract::RouteTableFromJson(Table(2, 2));
  auto table = *RouteTable::Build(*routes, nullptr);
  const ApiRoute& api = *table->Find("/iris");
  api.replicas[0]->Avoid(std::chrono::seconds(30));
  for (int i = 0; i < 4; ++i) {
    ReplicaTarget* picked = api.AcquireReplica();
    ASSERT_NE(picked, nullptr);
    EXPECT_EQ(picked->id, "r1");
    api.Release(picked);
  }
  // With the others full, none is picked (the request waits), rather than one that failed.
  ASSERT_EQ(api.AcquireReplica()->id, "r1");
  ASSERT_EQ(api.AcquireReplica()->id, "r1");
  EXPECT_EQ(api.AcquireReplica(), nullptr);
  EXPECT_TRUE(api.AnyAvoided());
  api.replicas[0]->Avoid(std::chrono::milliseconds(0));
  EXPECT_TRUE(api.replicas[0]->Avoided(1));                                     // until "now"...
  EXPECT_FALSE(api.replicas[0]->Avoided(std::numeric_limits<int64_t>::max()));  // ...not after
}

// Regression guard for version routing: replicas of two versions during a rollout.
TEST(RouteTableTest, FindsApisByNameAndReplicasByVersion) {
  auto json = Table(3, 10);
  json["apis"][0]["version"] = 2;
  json["apis"][0]["replicas"][0]["version"] = 1;
  json["apis"][0]["replicas"][1]["version"] = 2;
  json["apis"][0]["replicas"][2]["version"] = 2;
  auto table = *FromJson(json, nullptr);
  const ApiRoute* api = table->FindByName("iris");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->spec.version, 2);
  EXPECT_EQ(table->FindByName("/iris"), nullptr);
  const ApiRoute* v1 = table->FindVersion(*api, 1);
  const ApiRoute* v2 = table->FindVersion(*api, 2);
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(table->FindVersion(*api, 3), nullptr);
  ASSERT_EQ(v1->replicas.size(), 1u);
  EXPECT_EQ(v1->replicas[0]->id, "r0");
  EXPECT_EQ(v2->replicas.size(), 2u);
  // A version's route shares the API's counters, queue and limits.
  EXPECT_EQ(v1->shared, api->shared);
  EXPECT_EQ(v1->spec.max_replica_concurrency, 10);
  ReplicaTarget* picked = v2->AcquireReplica();
  ASSERT_NE(picked, nullptr);
  EXPECT_NE(picked->id, "r0");
  EXPECT_EQ(api->InFlight(), 1);
  v2->Release(picked);
  EXPECT_EQ(api->InFlight(), 0);
}

TEST(RouteTableTest, TablesWithoutVersionsStillParse) {
  auto table = *FromJson(Table(1), nullptr);
  const ApiRoute* api = table->FindByName("iris");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->spec.version, 0);
  EXPECT_EQ(table->FindVersion(*api, 0)->replicas.size(), 1u);
}

// Regression (found by fuzz/route_table): a socket name longer than a Unix socket address
// holds threw out of Build instead of being refused.
TEST(RouteTableTest, ASocketNameTooLongIsRefused) {
  auto json = Table(1);
  json["apis"][0]["replicas"][0]["socket"] = "@" + std::string(200, 'x');
  auto table = FromJson(json, nullptr);
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("bad socket name"), std::string::npos)
      << table.status().message();
}

}  // namespace
}  // namespace axon::gateway
