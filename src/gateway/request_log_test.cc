#include "gateway/request_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/files.h"
#include "common/log_line.h"
#include "gateway/route_table.h"

namespace axon::gateway {
namespace {

namespace fs = std::filesystem;

class RequestLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("request_log_test-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  contract::RouteTable Routes(int64_t per_million) {
    contract::ApiRoute api{.name = "iris", .endpoint = "/iris"};
    if (per_million > 0) {
      api.request_log = (dir_ / "iris.log").string();
      api.request_log_per_million = per_million;
    }
    return {.apis = {api}};
  }

  fs::path dir_;
};

TEST_F(RequestLogTest, WritesOneJsonLinePerRequestWithoutTheBody) {
  auto log = RequestLog::Open((dir_ / "a.log").string(), 1'000'000);
  ASSERT_TRUE(log.ok()) << log.status().message();
  (*log)->Record({.api = "iris",
                  .version = 3,
                  .replica = "iris-1",
                  .request_id = "id \"7\"",
                  .method = "POST",
                  .target = "/iris",
                  .status = 503,
                  .latency_us = 12'345});
  const auto lines = Lines(dir_ / "a.log");
  ASSERT_EQ(lines.size(), 1u);
  const auto parsed = ParseLogLine(lines[0]);
  ASSERT_TRUE(parsed.structured()) << lines[0];
  const auto& j = parsed.json;
  EXPECT_EQ(j["source"], "gateway");
  EXPECT_EQ(j["api"], "iris");
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(parsed.replica, "iris-1");
  EXPECT_EQ(j["request_id"], "id \"7\"");
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/iris");
  EXPECT_EQ(j["status"], 503);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 12.345);
  EXPECT_EQ(j["message"], "request");
}

TEST_F(RequestLogTest, LinesOfConcurrentThreadsNeverMix) {
  auto log = RequestLog::Open((dir_ / "b.log").string(), 1'000'000);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      const std::string id = "thread-" + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        (*log)->Record({.api = "iris",
                        .request_id = id,
                        .method = "POST",
                        .target = "/iris",
                        .status = 200,
                        .latency_us = i});
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto lines = Lines(dir_ / "b.log");
  ASSERT_EQ(lines.size(), 2000u);
  for (const auto& line : lines) ASSERT_TRUE(ParseLogLine(line).structured()) << line;
}

TEST_F(RequestLogTest, SamplesAtTheGivenRate) {
  auto log = RequestLog::Open((dir_ / "c.log").string(), 100'000);  // 1 in 10
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 10'000; ++i) {
    (*log)->Record({.api = "iris", .method = "POST", .target = "/iris", .status = 200});
  }
  const size_t n = Lines(dir_ / "c.log").size();
  // 10 000 draws at p = 0.1: mean 1000, standard deviation 30; these bounds are 10 of them.
  EXPECT_GT(n, 700u);
  EXPECT_LT(n, 1300u);
}

TEST_F(RequestLogTest, BadArgumentsAreErrors) {
  EXPECT_FALSE(RequestLog::Open((dir_ / "d.log").string(), 0).ok());
  EXPECT_FALSE(RequestLog::Open((dir_ / "d.log").string(), 1'000'001).ok());
  const auto missing = RequestLog::Open((dir_ / "no" / "such" / "d.log").string(), 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot open the request log"), std::string::npos);
}

TEST_F(RequestLogTest, RouteTablesOpenItOnceAndDropItWhenOff) {
  auto first = RouteTable::Build(Routes(1'000'000), nullptr);
  ASSERT_TRUE(first.ok());
  const auto log = (*first)->Find("/iris")->request_log;
  ASSERT_NE(log, nullptr);
  auto second = RouteTable::Build(Routes(1'000'000), first->get());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->Find("/iris")->request_log, log);  // the same open file
  auto resampled = RouteTable::Build(Routes(500'000), second->get());
  ASSERT_TRUE(resampled.ok());
  ASSERT_NE((*resampled)->Find("/iris")->request_log, nullptr);
  EXPECT_EQ((*resampled)->Find("/iris")->request_log->per_million(), 500'000);
  auto off = RouteTable::Build(Routes(0), resampled->get());
  ASSERT_TRUE(off.ok());
  EXPECT_EQ((*off)->Find("/iris")->request_log, nullptr);
}

}  // namespace
}  // namespace axon::gateway
