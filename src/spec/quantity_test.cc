#include "spec/quantity.h"

#include <gtest/gtest.h>

namespace axon::spec {
namespace {

int64_t Ms(std::string_view text) {
  StatusOr<Millis> d = ParseDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status().message();
  return d.ok() ? d->count() : -1;
}

std::string DurationError(std::string_view text) {
  StatusOr<Millis> d = ParseDuration(text);
  EXPECT_FALSE(d.ok()) << text;
  return d.ok() ? "" : d.status().message();
}

TEST(ParseDurationTest, AcceptsGoStyleDurations) {
  EXPECT_EQ(Ms("300ms"), 300);
  EXPECT_EQ(Ms("10s"), 10'000);
  EXPECT_EQ(Ms("5m"), 300'000);
  EXPECT_EQ(Ms("1h"), 3'600'000);
  EXPECT_EQ(Ms("1m30s"), 90'000);
  EXPECT_EQ(Ms("1h2m3s4ms"), 3'723'004);
  EXPECT_EQ(Ms("1.5s"), 1'500);
  EXPECT_EQ(Ms("0.5h"), 1'800'000);
  EXPECT_EQ(Ms("0s"), 0);
  EXPECT_EQ(Ms("0"), 0);
}

TEST(ParseDurationTest, RejectsBadDurations) {
  EXPECT_NE(DurationError("10").find("needs a unit: write e.g. \"10s\""), std::string::npos);
  EXPECT_NE(DurationError("1m30").find("needs a unit"), std::string::npos);
  EXPECT_NE(DurationError("1.5").find("\"1.5s\" for 1.5 seconds"), std::string::npos);
  EXPECT_NE(DurationError("ten seconds").find("must be a duration"), std::string::npos);
  EXPECT_NE(DurationError("-5s").find("negative"), std::string::npos);
  EXPECT_NE(DurationError("5us").find("unknown unit \"us\""), std::string::npos);
  EXPECT_NE(DurationError("5 s").find("unknown unit"), std::string::npos);
  EXPECT_NE(DurationError("0.5ms").find("whole number of milliseconds"), std::string::npos);
  EXPECT_NE(DurationError("").find("must be a duration"), std::string::npos);
  EXPECT_NE(DurationError("9999999999999999999h").find("too large"), std::string::npos);
}

TEST(ParseCpuTest, ConvertsToMillicores) {
  EXPECT_EQ(ParseCpuMillis("200m").value(), 200);
  EXPECT_EQ(ParseCpuMillis("1").value(), 1000);
  EXPECT_EQ(ParseCpuMillis("0.5").value(), 500);
  EXPECT_EQ(ParseCpuMillis("1.5").value(), 1500);
  EXPECT_EQ(ParseCpuMillis("2500m").value(), 2500);
}

TEST(ParseCpuTest, RejectsBadValues) {
  for (std::string_view bad : {"", "0", "0m", "-1", "abc", "1.5m", "0.0001", "2 cores", "1k"}) {
    EXPECT_FALSE(ParseCpuMillis(bad).ok()) << bad;
  }
  EXPECT_NE(ParseCpuMillis("0.0005").status().message().find("whole number of millicores"),
            std::string::npos);
}

TEST(ParseMemoryTest, ConvertsToBytes) {
  EXPECT_EQ(ParseMemoryBytes("512Mi").value(), 512LL << 20);
  EXPECT_EQ(ParseMemoryBytes("1Gi").value(), 1LL << 30);
  EXPECT_EQ(ParseMemoryBytes("500M").value(), 500'000'000);
  EXPECT_EQ(ParseMemoryBytes("1G").value(), 1'000'000'000);
  EXPECT_EQ(ParseMemoryBytes("100k").value(), 100'000);
  EXPECT_EQ(ParseMemoryBytes("1.5Gi").value(), 3LL << 29);
  EXPECT_EQ(ParseMemoryBytes("1048576").value(), 1'048'576);
}

TEST(ParseMemoryTest, RejectsBadValues) {
  for (std::string_view bad : {"", "0", "0Mi", "-1Gi", "lots", "1.5", "10Q", "1GB", "16Ei"}) {
    EXPECT_FALSE(ParseMemoryBytes(bad).ok()) << bad;
  }
  EXPECT_NE(ParseMemoryBytes("1K").status().message().find("\"Ki\" for 1024"), std::string::npos);
}

TEST(ParseCountOrPercentTest, AcceptsCountsAndPercentages) {
  EXPECT_EQ(ParseCountOrPercent("25%").value(), (CountOrPercent{25, true}));
  EXPECT_EQ(ParseCountOrPercent("0%").value(), (CountOrPercent{0, true}));
  EXPECT_EQ(ParseCountOrPercent("100%").value(), (CountOrPercent{100, true}));
  EXPECT_EQ(ParseCountOrPercent("3").value(), (CountOrPercent{3, false}));
  EXPECT_EQ(ParseCountOrPercent("0").value(), (CountOrPercent{0, false}));
}

TEST(ParseCountOrPercentTest, RejectsBadValues) {
  EXPECT_NE(ParseCountOrPercent("150%").status().message().find("0% to 100%"), std::string::npos);
  for (std::string_view bad : {"abc%", "%", "-1", "-5%", "1.5", "12.5%", "x"}) {
    EXPECT_FALSE(ParseCountOrPercent(bad).ok()) << bad;
  }
}

TEST(CountOrPercentTest, ResolvesWithRounding) {
  CountOrPercent quarter{25, true};
  EXPECT_EQ(quarter.Resolve(10, true), 3);
  EXPECT_EQ(quarter.Resolve(10, false), 2);
  EXPECT_EQ(quarter.Resolve(4, true), 1);
  EXPECT_EQ(quarter.Resolve(4, false), 1);
  EXPECT_EQ(quarter.Resolve(1, true), 1);
  EXPECT_EQ(quarter.Resolve(1, false), 0);
  EXPECT_EQ(quarter.Resolve(0, true), 0);
  EXPECT_EQ((CountOrPercent{100, true}).Resolve(7, false), 7);
  EXPECT_EQ((CountOrPercent{2, false}).Resolve(10, true), 2);
  EXPECT_EQ((CountOrPercent{2, false}).Resolve(10, false), 2);
}

TEST(ParseNumberTest, AcceptsDecimalNotationOnly) {
  EXPECT_EQ(ParseNumber("1").value(), 1.0);
  EXPECT_EQ(ParseNumber("-0.5").value(), -0.5);
  EXPECT_EQ(ParseNumber("+2.5").value(), 2.5);
  EXPECT_EQ(ParseNumber(".5").value(), 0.5);
  EXPECT_EQ(ParseNumber("3.").value(), 3.0);
  EXPECT_EQ(ParseNumber("1e3").value(), 1000.0);
  EXPECT_EQ(ParseNumber("2.5E-1").value(), 0.25);
  for (std::string_view bad : {"", "inf", "nan", ".inf", "0x10", "1e", "1e999", "abc", "1,5"}) {
    EXPECT_FALSE(ParseNumber(bad).has_value()) << bad;
  }
}

TEST(ParseIntegerTest, AcceptsDecimalIntegersOnly) {
  EXPECT_EQ(ParseInteger("42").value(), 42);
  EXPECT_EQ(ParseInteger("-3").value(), -3);
  EXPECT_EQ(ParseInteger("+7").value(), 7);
  for (std::string_view bad : {"", "-", "1.0", "1e3", "abc", "99999999999999999999", "0x1"}) {
    EXPECT_FALSE(ParseInteger(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace axon::spec
