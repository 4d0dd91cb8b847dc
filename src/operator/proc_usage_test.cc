#include "operator/proc_usage.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace axon::operator_ {
namespace {

// A real line (proc(5)): pid, (comm), state, then fields 4..52; utime 14 = 250, stime 15 = 40.
constexpr std::string_view kStat =
    "4242 (axon-replica) S 1 4242 4242 0 -1 4194560 9512 0 0 0 250 40 0 0 20 0 5 0 123456 "
    "812343296 51234 18446744073709551615 1 1 0 0 0 0 0 4096 17410 0 0 0 17 1 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0\n";

TEST(ProcUsageTest, CpuTicksAreUtimePlusStime) {
  auto ticks = ParseProcStatCpuTicks(kStat);
  ASSERT_TRUE(ticks.ok()) << ticks.status().message();
  EXPECT_EQ(*ticks, 290U);
}

TEST(ProcUsageTest, CommandNameWithSpacesAndParentheses) {
  auto ticks = ParseProcStatCpuTicks(
      "7 (python3 (worker) 2) R 1 7 7 0 -1 0 0 0 0 0 1000 24 0 0 20 0 1 0 5 0 0");
  ASSERT_TRUE(ticks.ok()) << ticks.status().message();
  EXPECT_EQ(*ticks, 1024U);
}

TEST(ProcUsageTest, BadStatLines) {
  EXPECT_EQ(ParseProcStatCpuTicks("").status().message(),
            "/proc/PID/stat: no ')' after the command name");
  EXPECT_EQ(ParseProcStatCpuTicks("1 (x) S 1 2 3").status().message(),
            "/proc/PID/stat: 6 fields, expected at least 15");
  EXPECT_EQ(ParseProcStatCpuTicks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 2").status().message(),
            "/proc/PID/stat: field 14 is not a number: -5");
}

TEST(ProcUsageTest, RssFromStatus) {
  auto rss = ParseProcStatusRssBytes(
      "Name:\taxon-replica\nVmPeak:\t  900000 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 40000 kB\n");
  ASSERT_TRUE(rss.ok()) << rss.status().message();
  EXPECT_EQ(*rss, 51234U * 1024);
  // A kernel thread or a zombie has no VmRSS.
  EXPECT_EQ(*ParseProcStatusRssBytes("Name:\tkthreadd\nState:\tS (sleeping)\n"), 0U);
  EXPECT_FALSE(ParseProcStatusRssBytes("VmRSS:\t lots\n").ok());
  EXPECT_FALSE(ParseProcStatusRssBytes("VmRSS:\t 12 MB\n").ok());
}

TEST(ProcUsageTest, ReadsThisProcess) {
  auto usage = ReadProcUsage(getpid());
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_GT(usage->rss_bytes, 0U);
  EXPECT_EQ(ReadProcUsage(0).status().code(), StatusCode::kInvalidArgument);
  // Beyond the kernel's pid_max (at most 2^22): no such process.
  EXPECT_EQ(ReadProcUsage(int64_t{1} << 23).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace axon::operator_
