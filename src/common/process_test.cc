#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

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

TEST(ProcessTest, StdinFdBecomesTheChildsStdin) {
  const auto out = std::filesystem::temp_directory_path() / ("axon-proc-" + RandomHex(6));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto pid = SpawnProcess({.argv = {"/bin/cat"}, .output_file = out, .stdin_fd = fds[0]});
  ::close(fds[0]);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  ASSERT_EQ(::write(fds[1], "line\n", 5), 5);
  ::close(fds[1]);  // cat sees the end of its input only if no other copy of this end is open
  EXPECT_EQ(WaitForExit(*pid), "exit code 0");
  EXPECT_EQ(*ReadFile(out), "line\n");
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

// Regression: a process that is not our child (the operator, seen from `axon down`) stays a
// zombie until its parent or init reaps it; kill(pid, 0) still succeeds on it, which made it
// look alive and `axon down` wait for init.
TEST(ProcessTest, AZombieThatIsNotOurChildCountsAsDead) {
  const auto out = std::filesystem::temp_directory_path() / ("axon-proc-" + RandomHex(6));
  // The shell starts /bin/true, prints its pid, and becomes `sleep`, which never reaps it.
  auto parent = SpawnProcess(
      {.argv = {"/bin/sh", "-c", "/bin/true & echo $!; exec sleep 30"}, .output_file = out});
  ASSERT_TRUE(parent.ok());
  pid_t zombie = 0;
  for (int i = 0; i < 500 && zombie == 0; ++i) {
    if (auto text = ReadFile(out); text.ok() && !text->empty() && text->back() == '\n') {
      zombie = static_cast<pid_t>(std::stol(*text));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_GT(zombie, 0);
  bool dead = false;
  for (int i = 0; i < 500 && !dead; ++i) {
    dead = !ProcessAlive(zombie);
    if (!dead) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(dead);
  EXPECT_EQ(::kill(zombie, 0), 0);  // still in the process table: a zombie
  EXPECT_EQ(ReapIfExited(zombie), "exited");
  EXPECT_TRUE(ProcessAlive(*parent));
  TerminateProcess(*parent, std::chrono::milliseconds(2000));
  std::filesystem::remove(out);
}

TEST(ProcessTest, SpawnOfMissingProgramFails) {
  auto pid = SpawnProcess({.argv = {"/nonexistent/program"}});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("/nonexistent/program"), std::string::npos);
}

}  // namespace
}  // namespace axon

namespace axon {
namespace {

// A pid names a process only together with its start time: a recycled pid is another process.
TEST(ProcessIdentityTest, StartTimeTellsRecycledPids) {
  const auto start = ProcessStartTime(getpid());
  ASSERT_TRUE(start.has_value());
  EXPECT_GT(*start, 0U);
  EXPECT_TRUE(ProcessAlive(getpid(), *start));
  EXPECT_FALSE(ProcessAlive(getpid(), *start + 1));
  EXPECT_EQ(ProcessEnvironmentValue(getpid(), "AXON_TEST_NOT_SET_ANYWHERE"), "");
  // Our parent is not our child: without a matching start time it counts as exited.
  const pid_t parent = getppid();
  const auto parent_start = ProcessStartTime(parent);
  ASSERT_TRUE(parent_start.has_value());
  EXPECT_FALSE(ReapIfExited(parent, *parent_start).has_value());
  EXPECT_EQ(ReapIfExited(parent, *parent_start + 12345), "exited");
}

}  // namespace
}  // namespace axon
