#include <gtest/gtest.h>

#include "contract/flags.h"
#include "contract/replica_stats.h"
#include "contract/routes.h"
#include "contract/standby.h"
#include "contract/stats.h"

namespace axon::contract {
namespace {

// Parses `args` with a parser built by Register(), as the receiving process does.
template <typename Flags>
Flags ParseArgs(const std::vector<std::string>& args) {
  auto parsed = FromArgs<Flags>(args);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : Flags{};
}

TEST(FlagsTest, GatewayFlagsRoundTrip) {
  GatewayFlags flags;
  flags.host = "0.0.0.0";
  flags.port = 18888;
  flags.threads = 3;
  flags.admin_listen = "@axon-admin-1";
  flags.limits = {
      .max_body_bytes = 123, .max_header_bytes = 456, .header_timeout_ms = 7, .idle_timeout_ms = 8};
  flags.drain_ms = 1234;  // once never reached the gateway
  flags.sample_ms = 55;   // likewise
  flags.token_file = "/t";
  flags.routes_file = "/r";
  flags.tls_cert = "/c";
  flags.tls_key = "/k";
  EXPECT_EQ(ParseArgs<GatewayFlags>(ToArgs(flags)), flags);
  EXPECT_EQ(ParseArgs<GatewayFlags>(ToArgs(GatewayFlags{})), GatewayFlags{});
}

TEST(FlagsTest, ReplicaFlagsRoundTrip) {
  ReplicaFlags flags;
  flags.spec_file = "/s.json";
  flags.replica_id = "iris-0a1b2c3d";
  flags.port = 9;
  flags.unix_socket = "@x";
  flags.port_file = "/p";
  flags.error_file = "/e";
  flags.io_threads = 2;
  flags.drain_ms = 10;
  flags.max_body_bytes = 11;
  flags.standby = "torchscript";
  EXPECT_EQ(ParseArgs<ReplicaFlags>(ToArgs(flags)), flags);
}

TEST(FlagsTest, FromArgsNamesAnUnknownFlag) {
  auto parsed = FromArgs<ReplicaFlags>({"--spec", "/s.json", "--no-such-flag", "1"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("--no-such-flag"), std::string::npos)
      << parsed.status().message();
}

TEST(StandbyTest, AssignmentRoundTrip) {
  StandbyAssignment a;
  a.flags.spec_file = "/home/u/.axon/run/specs/mlp.json";
  a.flags.replica_id = "mlp-0a1b2c3d";
  a.flags.unix_socket = "@axon-1-mlp-0a1b2c3d";
  a.flags.port_file = "/p";
  a.env = {{"AXON_API", "mlp"}, {"AXON_REPLICA_ID", "mlp-0a1b2c3d"}, {"X", "a \"b\"\n"}};
  a.output_file = "/home/u/.axon/logs/mlp.log";
  a.working_dir = "/home/u/.axon/bundles/abc";
  const std::string line = ToLine(a);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, whatever the values hold
  auto back = StandbyAssignmentFromLine(line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, a);
}

TEST(StandbyTest, BadLinesSayWhatIsWrong) {
  auto not_json = StandbyAssignmentFromLine("{\"args\": [");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("not JSON"), std::string::npos);
  auto no_args = StandbyAssignmentFromLine(R"({"env": {}, "output_file": "/o"})");
  ASSERT_FALSE(no_args.ok());
  EXPECT_NE(no_args.status().message().find("assignment.args"), std::string::npos)
      << no_args.status().message();
  auto bad_env = StandbyAssignmentFromLine(R"({"args": [], "env": {"A": 1}, "output_file": "/o"})");
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.status().message().find("assignment.env.A"), std::string::npos)
      << bad_env.status().message();
  auto bad_flag =
      StandbyAssignmentFromLine(R"({"args": ["--io-threads", "x"], "output_file": "/o"})");
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_NE(bad_flag.status().message().find("--io-threads"), std::string::npos)
      << bad_flag.status().message();
}

TEST(FlagsTest, OperatorFlagsRoundTrip) {
  OperatorFlags flags;
  flags.port = 1;
  flags.gateway_port = 2;
  flags.gateway_threads = 4;
  flags.tick_ms = 50;
  flags.starting_tick_ms = 5;
  flags.ready_timeout_ms = 99;
  flags.max_held = 7;
  flags.standby = false;
  flags.limits.header_timeout_ms = 3;
  flags.tls_cert = "with space.pem";
  EXPECT_EQ(ParseArgs<OperatorFlags>(ToArgs(flags)), flags);
}

RouteTable SampleRoutes() {
  RouteTable table;
  ApiRoute api;
  api.name = "iris";
  api.endpoint = "/iris";
  api.version = 3;
  api.status = "live";
  api.max_replica_concurrency = 8;
  api.max_queue_length = 4;
  api.timeout_ms = 5000;
  api.hold_timeout_ms = 100;
  api.max_held = 9;
  api.start_failing = true;
  api.api_key_hashes = {"ab", "cd"};
  api.api_keys_required = true;
  api.request_log = "/home/x/.axon/logs/iris.log";
  api.request_log_per_million = 100'000;
  api.replicas = {{"iris-1", 3, "127.0.0.1", 4001, "@s1"}, {"iris-2", 2, "10.0.0.2", 80, ""}};
  api.many_models = true;
  table.apis.push_back(api);
  api.many_models = false;
  api.name = "other";
  api.endpoint = "/other";
  api.replicas.clear();
  api.request_log.clear();
  api.request_log_per_million = 0;
  api.async = true;
  table.apis.push_back(api);
  api.name = "sums";
  api.endpoint = "/sums";
  api.jobs = true;
  table.apis.push_back(api);
  return table;
}

TEST(RoutesTest, RoundTrip) {
  const RouteTable table = SampleRoutes();
  auto parsed = RouteTableFromJson(nlohmann::json::parse(ToJson(table).dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, table);
}

TEST(RoutesTest, ErrorsNameTheField) {
  auto json = ToJson(SampleRoutes());
  json["apis"][0]["replicas"][1]["port"] = 70000;
  auto parsed = RouteTableFromJson(json);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("apis[0].replicas[1].port"), std::string::npos)
      << parsed.status().message();

  json = ToJson(SampleRoutes());
  json["apis"][1]["endpoint"] = 5;
  parsed = RouteTableFromJson(json);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("apis[1].endpoint must be a string"), std::string::npos);

  for (const char* bad : {"[]", "null", "{\"apis\": 3}", "{\"apis\": [[]]}", "{\"apis\": [{}]}"}) {
    EXPECT_FALSE(RouteTableFromJson(nlohmann::json::parse(bad)).ok()) << bad;
  }
}

TEST(StatsTest, RoundTrip) {
  GatewayStats stats;
  ApiStats& s = stats.apis["iris"];
  s.responses_2xx = 10;
  s.responses_4xx = 2;
  s.responses_5xx = 1;
  s.latency_us_total = 12345;
  s.latency_buckets = {0, 4, 5, 0, 1};
  s.recent = {.window_ms = 60'000, .requests = 7, .p50_ms = 1.5, .p99_ms = 24.75};
  s.in_flight = 3;
  s.queued = 1;
  s.replica_in_flight = {{"iris-1", 2}};
  s.samples = {{1000, 1}, {2000, 3}};
  stats.apis["empty"] = {};
  auto parsed = GatewayStatsFromJson(nlohmann::json::parse(ToJson(stats).dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, stats);
  EXPECT_FALSE(
      GatewayStatsFromJson(nlohmann::json::parse("{\"apis\": {\"a\": {\"2xx\": -1}}}")).ok());
  const auto bad_quantile = GatewayStatsFromJson(
      nlohmann::json::parse(R"({"apis": {"a": {"recent": {"p99_ms": "slow"}}}})"));
  ASSERT_FALSE(bad_quantile.ok());
  EXPECT_EQ(bad_quantile.status().message(), "stats.apis.a.recent.p99_ms must be a number");
  const auto bad_buckets = GatewayStatsFromJson(
      nlohmann::json::parse(R"({"apis": {"a": {"latency_buckets": [1, -2]}}})"));
  ASSERT_FALSE(bad_buckets.ok());
  EXPECT_EQ(bad_buckets.status().message(),
            "stats.apis.a.latency_buckets must hold counts (integers >= 0)");
}

TEST(ReplicaStatsTest, RoundTrip) {
  ReplicaStats stats;
  EXPECT_TRUE(ReplicaStatsFromJson(ToJson(stats)).ok());  // no batching: empty histograms
  stats.batching = true;
  Histogram sizes(kBatchSizeBounds);
  for (uint64_t n : {1, 3, 8, 8, 700}) sizes.Observe(n);
  stats.batch_size = sizes.Snapshot();
  Histogram waits(kLatencyBoundsUs);
  for (uint64_t us : {0, 150, 90'000'000}) waits.Observe(us);
  stats.queue_wait_us = waits.Snapshot();
  auto parsed = ReplicaStatsFromJson(nlohmann::json::parse(ToJson(stats).dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->batching);
  EXPECT_EQ(parsed->batch_size.counts, stats.batch_size.counts);
  EXPECT_EQ(parsed->batch_size.sum, 720u);
  EXPECT_EQ(parsed->batch_size.Count(), 5u);
  EXPECT_EQ(parsed->queue_wait_us.counts, stats.queue_wait_us.counts);
  EXPECT_EQ(parsed->queue_wait_us.sum, stats.queue_wait_us.sum);

  auto json = ToJson(stats);
  json["batch_size"]["counts"].push_back(1);
  auto bad = ReplicaStatsFromJson(json);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "stats.batch_size.counts must have 11 buckets");
  json = ToJson(stats);
  json["queue_wait_us"]["counts"][0] = -2;
  EXPECT_FALSE(ReplicaStatsFromJson(json).ok());
  EXPECT_FALSE(ReplicaStatsFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace axon::contract
