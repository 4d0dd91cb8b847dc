#include "common/process.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/files.h"

namespace axon {
namespace {

std::optional<std::string> WaitForExit(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (auto exit = ReapIfExited(pid)) return exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(ProcessTest, SpawnWritesOutputAndEnvironment) {
  const auto out = std::filesystem::temp_directory_path() / ("axon-proc-" + RandomHex(6));
  auto pid = SpawnProcess({.argv = {"/bin/sh", "-c", "echo $AXON_X; echo err >&2; exit 3"},
                           .env = {{"AXON_X", "hello"}},
                           .output_file = out});
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  EXPECT_EQ(WaitForExit(*pid), "exit code 3");
  EXPECT_EQ(*ReadFile(out), "hello\nerr\n");
  std::filesystem::remove(out);
}

TEST(ProcessTest, TerminateStopsAProcessThatIgnoresNothing) {
  auto pid = SpawnProcess({.argv = {"/bin/sleep", "30"}});
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(ProcessAlive(*pid));
  TerminateProcess(*pid, std::chrono::milliseconds(2000));
  EXPECT_FALSE(ProcessAlive(*pid));
}

TEST(ProcessTest, TerminateKillsAProcessThatIgnoresSigterm) {
  auto pid = SpawnProcess({.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 30"}});
  ASSERT_TRUE(pid.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  TerminateProcess(*pid, std::chrono::milliseconds(200));
  EXPECT_FALSE(ProcessAlive(*pid));
}

TEST(ProcessTest, SpawnOfMissingProgramFails) {
  auto pid = SpawnProcess({.argv = {"/nonexistent/program"}});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("/nonexistent/program"), std::string::npos);
}

}  // namespace
}  // namespace axon
