#include "operator/api_logs.h"

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "common/log_line.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

std::string Line(int64_t time_ms, std::string_view replica, std::string_view message) {
  fmt::memory_buffer out;
  AppendLogLine(out, {.time_ms = time_ms, .replica = replica, .message = message});
  return fmt::to_string(out);
}

class ApiLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("axon-api-logs-" + RandomHex(6));
    fs::create_directories(dir_);
    log_ = dir_ / "iris.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Append(const fs::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary | std::ios::app) << text;
  }
  // The answer to a query string, as the management API would parse it.
  nlohmann::json Read(const std::string& query) { return ReadApiLog(log_, ParseLogQuery(query)); }
  // Every line there is now, from `query` on, following `next` while `more` says so.
  std::string Drain(nlohmann::json* answer, const std::string& filters = "") {
    std::string text;
    for (int calls = 0; calls < 100; ++calls) {
      *answer = Read((*answer)["next"].get<std::string>() + filters);
      text += (*answer)["text"].get<std::string>();
      if (!(*answer)["more"].get<bool>()) break;
    }
    return text;
  }

  fs::path dir_;
  fs::path log_;
};

TEST_F(ApiLogsTest, AMissingFileIsAnEmptyLog) {
  auto answer = Read("tail=10");
  EXPECT_EQ(answer["text"], "");
  EXPECT_FALSE(answer["more"].get<bool>());
  EXPECT_EQ(Drain(&answer), "");
}

// Regression: the tail used to include a line still being written and to give the size measured
// before reading as the place to go on from, so a follower printed lines twice or cut.
TEST_F(ApiLogsTest, TheTailStopsAtTheLastWholeLineAndTheFollowerGoesOnFromThere) {
  Append(log_, "one\ntwo\nthr");
  auto answer = Read("tail=10");
  EXPECT_EQ(answer["text"], "one\ntwo\n");
  EXPECT_EQ(Drain(&answer), "");  // "thr" is not a line yet
  Append(log_, "ee\nfour\n");
  EXPECT_EQ(Drain(&answer), "three\nfour\n");
  EXPECT_EQ(Drain(&answer), "");
}

TEST_F(ApiLogsTest, TailCountsLinesFromTheEnd) {
  Append(log_, "a\nb\nc\nd\n");
  EXPECT_EQ(Read("tail=2")["text"], "c\nd\n");
  EXPECT_EQ(Read("tail=0")["text"], "");
}

// Regression: the filter's memory (a plain line goes with the structured line before it) was
// lost between two reads, so a follower with --replica dropped the plain lines of its replica.
TEST_F(ApiLogsTest, PlainLinesFollowTheirReplicaAcrossReads) {
  Append(log_, Line(1000, "r1", "ready") + Line(1000, "r2", "ready"));
  auto answer = Read("tail=10&replica=r1");
  EXPECT_EQ(answer["text"], Line(1000, "r1", "ready"));
  Append(log_, Line(2000, "r1", "printing") + "plain text from r1\n");
  EXPECT_EQ(Drain(&answer, "&replica=r1"), Line(2000, "r1", "printing") + "plain text from r1\n");
  Append(log_, "more plain text from r1\n" + Line(3000, "r2", "other") + "plain text from r2\n");
  EXPECT_EQ(Drain(&answer, "&replica=r1"), "more plain text from r1\n");
}

TEST_F(ApiLogsTest, TailAndFromStartReachIntoRotatedCopies) {
  Append(log_, "1\n2\n3\n");
  RotateIfLarger(log_, 0, 3);
  Append(log_, "4\n5\n");
  RotateIfLarger(log_, 0, 3);
  Append(log_, "6\n7\n");
  ASSERT_TRUE(fs::exists(log_.string() + ".2"));
  EXPECT_EQ(Read("tail=3")["text"], "5\n6\n7\n");
  EXPECT_EQ(Read("tail=6")["text"], "2\n3\n4\n5\n6\n7\n");
  EXPECT_EQ(Read("tail=100")["text"], "1\n2\n3\n4\n5\n6\n7\n");

  nlohmann::json start = {{"next", "from=start"}};
  EXPECT_EQ(Drain(&start), "1\n2\n3\n4\n5\n6\n7\n");
  Append(log_, "8\n");
  EXPECT_EQ(Drain(&start), "8\n");
}

TEST_F(ApiLogsTest, SinceFiltersAcrossRotatedCopies) {
  Append(log_, Line(1000, "r1", "old") + "old plain\n" + Line(2000, "r1", "new") + "new plain\n");
  RotateIfLarger(log_, 0, 3);
  Append(log_, "still new plain\n" + Line(3000, "r1", "newer"));
  const std::string expected =
      Line(2000, "r1", "new") + "new plain\nstill new plain\n" + Line(3000, "r1", "newer");
  EXPECT_EQ(Read("tail=100&since_ms=2000")["text"], expected);
  nlohmann::json start = {{"next", "from=start"}};
  EXPECT_EQ(Drain(&start, "&since_ms=2000"), expected);
}

// A follower whose file is rotated between two reads reads the rest from the copy, then goes on
// with the live file: nothing lost, nothing twice.
TEST_F(ApiLogsTest, AFollowerLosesNoLineToARotation) {
  Append(log_, "a\nb\n");
  auto answer = Read("tail=10");
  EXPECT_EQ(answer["text"], "a\nb\n");
  Append(log_, "c\nd\n");
  RotateIfLarger(log_, 0, 3);
  Append(log_, "e\n");
  EXPECT_EQ(Drain(&answer), "c\nd\ne\n");
  Append(log_, "f\n");
  EXPECT_EQ(Drain(&answer), "f\n");
}

TEST_F(ApiLogsTest, ALineLongerThanAChunkIsPassedOnInPieces) {
  const std::string long_line(3 << 20, 'x');
  Append(log_, long_line + "\nshort\n");
  nlohmann::json start = {{"next", "from=start"}};
  EXPECT_EQ(Drain(&start), long_line + "\nshort\n");
}

TEST_F(ApiLogsTest, NumbersThatAreNotNumbersLeaveTheDefaults) {
  const LogQuery q = ParseLogQuery("offset=x&tail=12abc&rotated=-5&since_ms=&replica=r%201");
  EXPECT_EQ(q.offset, -1);
  EXPECT_EQ(q.tail, 100);
  EXPECT_EQ(q.rotated, 0);
  EXPECT_EQ(q.since_ms, 0);
  EXPECT_EQ(q.replica, "r 1");
  EXPECT_EQ(ParseLogQuery("rotated=99999").rotated, kOldestRotated);
  EXPECT_EQ(ParseLogQuery("after_ns=1796197752123456789").after_ns, 1796197752123456789);
  EXPECT_EQ(ParseLogQuery("after_ns=12x").after_ns, 0);
}

}  // namespace
}  // namespace axon::operator_
