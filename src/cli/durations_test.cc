#include "cli/durations.h"

#include <gtest/gtest.h>

namespace axon::cli {
namespace {

constexpr int64_t kNow = 1'796'197'752'345;

TEST(SinceTest, DurationsBeforeNow) {
  EXPECT_EQ(SinceUnixMs("30s", kNow).value(), kNow - 30'000);
  EXPECT_EQ(SinceUnixMs("10m", kNow).value(), kNow - 600'000);
  EXPECT_EQ(SinceUnixMs("2h", kNow).value(), kNow - 7'200'000);
  EXPECT_EQ(SinceUnixMs("1h30m", kNow).value(), kNow - 5'400'000);
  EXPECT_EQ(SinceUnixMs("250ms", kNow).value(), kNow - 250);
  EXPECT_EQ(SinceUnixMs("1.5h", kNow).value(), kNow - 5'400'000);
}

TEST(SinceTest, BadInputSaysWhatIsAllowed) {
  const struct {
    const char* text;
    const char* phrase;
  } cases[] = {
      {"10", "--since: needs a unit: write e.g. \"10s\""},
      {"abc", "--since: must be a duration like \"30s\""},
      {"-5m", "--since: must not be negative"},
      {"0", "--since: must be a duration > 0"},
      {"10 minutes", "--since: "},
      {"", "--since: "},
      {"5d", "--since: has unknown unit \"d\""},
  };
  for (const auto& c : cases) {
    const auto result = SinceUnixMs(c.text, kNow);
    ASSERT_FALSE(result.ok()) << c.text;
    EXPECT_NE(result.status().message().find(c.phrase), std::string::npos)
        << c.text << ": " << result.status().message();
    EXPECT_NE(result.status().message().find(std::string("got \"") + c.text + "\""),
              std::string::npos)
        << result.status().message();
  }
}

TEST(DurationFlagTest, NamesTheFlag) {
  EXPECT_EQ(ParseDurationFlag("--timeout", "5m").value(), std::chrono::minutes(5));
  const auto bad = ParseDurationFlag("--timeout", "soon");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("--timeout: ", 0), 0u) << bad.status().message();
}

}  // namespace
}  // namespace axon::cli
