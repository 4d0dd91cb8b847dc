#include "common/log_line.h"

#include <gtest/gtest.h>

namespace axon {
namespace {

std::string Line(const LogFields& fields, std::string_view extra = "") {
  fmt::memory_buffer out;
  AppendLogLine(out, fields, extra);
  return fmt::to_string(out);
}

TEST(LogLineTest, WritesEveryKnownFieldInOrder) {
  EXPECT_EQ(Line({.time_ms = 1796197752345,
                  .level = "warn",
                  .source = "replica",
                  .api = "iris",
                  .version = 3,
                  .replica = "iris-1a2b3c4d",
                  .request_id = "req-7",
                  .message = "slow"}),
            R"({"time":"2026-12-02T07:49:12.345Z","level":"warn","source":"replica",)"
            R"("api":"iris","version":3,"replica":"iris-1a2b3c4d","request_id":"req-7",)"
            R"("message":"slow"})"
            "\n");
}

TEST(LogLineTest, LeavesOutUnknownFieldsAndAppendsExtras) {
  EXPECT_EQ(Line({.time_ms = 0, .message = "m"}, R"("status":200)"),
            R"({"time":"1970-01-01T00:00:00.000Z","level":"info","message":"m","status":200})"
            "\n");
}

TEST(LogLineTest, EscapesStringsSoEveryLineIsValidJson) {
  const std::string message = "quote \" backslash \\ newline \n tab \t bell \x07 bad \xff end é";
  const std::string line = Line({.time_ms = 5, .request_id = "a\"b", .message = message});
  ASSERT_EQ(line.find('\n'), line.size() - 1) << "one line only";
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["message"],
            "quote \" backslash \\ newline \n tab \t bell \x07 bad \xEF\xBF\xBD end é");
  EXPECT_EQ(json["request_id"], "a\"b");
}

TEST(LogLineTest, TimesRoundTrip) {
  for (int64_t ms : {int64_t{0}, int64_t{999}, int64_t{951'782'400'000} /* 2000-02-29 */,
                     int64_t{1796197752345}, int64_t{4'102'444'799'999}}) {
    const std::string text = FormatLogTime(ms);
    EXPECT_EQ(ParseLogTime(text), ms) << text;
  }
  EXPECT_EQ(FormatLogTime(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_FALSE(ParseLogTime("2026-12-02 07:49:12.345Z"));
  EXPECT_FALSE(ParseLogTime("2026-13-02T07:49:12.345Z"));
  EXPECT_FALSE(ParseLogTime("2026-12-02T07:49:12Z"));
  EXPECT_FALSE(ParseLogTime("2026-12-02T07:4x:12.345Z"));
}

TEST(LogLineTest, ParsesTheKubeletsStamps) {
  constexpr int64_t kSecond = 1'796'197'752;  // 2026-12-02T07:49:12Z
  EXPECT_EQ(ParseUtcTimeNs("2026-12-02T07:49:12Z"), kSecond * 1'000'000'000);
  EXPECT_EQ(ParseUtcTimeNs("2026-12-02T07:49:12.5Z"), kSecond * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(ParseUtcTimeNs("2026-12-02T07:49:12.123456789Z"),
            kSecond * 1'000'000'000 + 123'456'789);
  EXPECT_FALSE(ParseUtcTimeNs("2026-12-02T07:49:12.Z"));
  EXPECT_FALSE(ParseUtcTimeNs("2026-12-02T07:49:12.1234567890Z"));
  EXPECT_FALSE(ParseUtcTimeNs("2026-12-02T07:49:12.12a4Z"));
  EXPECT_FALSE(ParseUtcTimeNs("2026-12-02T07:49:12+01:00"));
  EXPECT_FALSE(ParseUtcTimeNs(""));
}

TEST(LogLineTest, ParsesOurLinesAndKeepsOthersRaw) {
  const auto ours = ParseLogLine(Line({.time_ms = 1500, .replica = "r1", .message = "hi"}));
  ASSERT_TRUE(ours.structured());
  EXPECT_EQ(ours.time_ms, 1500);
  EXPECT_EQ(ours.replica, "r1");
  EXPECT_EQ(ours.json["message"], "hi");
  EXPECT_EQ(ours.raw.back(), '}');

  for (std::string_view other :
       {"plain print from a library", "{not json", "[1,2]", R"({"message":"no time"})",
        R"({"time":"yesterday","message":"x"})", ""}) {
    const auto parsed = ParseLogLine(other);
    EXPECT_FALSE(parsed.structured()) << other;
    EXPECT_EQ(parsed.raw, other);
  }
}

TEST(LogLineTest, HumanFormat) {
  const auto line = ParseLogLine(Line({.time_ms = 1796197752345,
                                       .level = "info",
                                       .source = "gateway",
                                       .api = "iris",
                                       .version = 2,
                                       .replica = "iris-1",
                                       .request_id = "abc",
                                       .message = "request"},
                                      R"("method":"POST","status":200)"));
  EXPECT_EQ(HumanLogLine(line),
            "2026-12-02 07:49:12.345 info  iris-1 request request_id=abc method=POST status=200");
  const auto operator_line =
      ParseLogLine(Line({.time_ms = 0, .level = "error", .source = "operator", .message = "x"}));
  EXPECT_EQ(HumanLogLine(operator_line), "1970-01-01 00:00:00.000 error operator x");
  EXPECT_EQ(HumanLogLine(ParseLogLine("raw text")), "raw text");
}

TEST(LogFilterTest, SinceAndReplicaKeepRawLinesWithTheLineBefore) {
  LogFilter filter(2000, "r1");
  EXPECT_TRUE(filter.Active());
  EXPECT_FALSE(filter.Keep(ParseLogLine("raw before anything")));
  EXPECT_FALSE(
      filter.Keep(ParseLogLine(Line({.time_ms = 1000, .replica = "r1", .message = "old"}))));
  EXPECT_FALSE(filter.Keep(ParseLogLine("raw after old")));
  EXPECT_TRUE(
      filter.Keep(ParseLogLine(Line({.time_ms = 2000, .replica = "r1", .message = "new"}))));
  EXPECT_TRUE(filter.Keep(ParseLogLine("raw after new")));
  EXPECT_FALSE(
      filter.Keep(ParseLogLine(Line({.time_ms = 3000, .replica = "r2", .message = "other"}))));
  EXPECT_FALSE(filter.Keep(ParseLogLine("raw after other")));

  LogFilter none(0, "");
  EXPECT_FALSE(none.Active());
  EXPECT_TRUE(none.Keep(ParseLogLine("raw")));
  EXPECT_TRUE(none.Keep(ParseLogLine(Line({.time_ms = 0, .message = "any"}))));
}

}  // namespace
}  // namespace axon
