#include "common/home_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/files.h"

namespace axon {
namespace {

class HomeLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.root = std::filesystem::temp_directory_path() / ("axon-lock-" + RandomHex(6));
  }
  void TearDown() override { std::filesystem::remove_all(home_.root); }
  AxonHome home_;
};

TEST_F(HomeLockTest, OneHolderAtATime) {
  EXPECT_EQ(HomeLock::Holder(home_), "");
  {
    auto lock = HomeLock::Acquire(home_, "pid 1, operator 127.0.0.1:8889");
    ASSERT_TRUE(lock.ok()) << lock.status().message();
    EXPECT_EQ(HomeLock::Holder(home_), "pid 1, operator 127.0.0.1:8889");
    // flock locks belong to open files: a second open in this process conflicts too, as a
    // second operator would.
    auto second = HomeLock::Acquire(home_, "pid 2");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
    EXPECT_NE(second.status().message().find("pid 1, operator 127.0.0.1:8889"), std::string::npos);
  }
  EXPECT_EQ(HomeLock::Holder(home_), "");
  EXPECT_TRUE(HomeLock::Acquire(home_, "pid 3").ok());
}

TEST_F(HomeLockTest, AKilledHolderLeavesNoLock) {
  const pid_t child = fork();
  if (child == 0) {
    auto lock = HomeLock::Acquire(home_, "child");
    if (!lock.ok()) _exit(1);
    pause();  // until killed
    _exit(0);
  }
  for (int i = 0; i < 200 && HomeLock::Holder(home_).empty(); ++i) usleep(10'000);
  EXPECT_EQ(HomeLock::Holder(home_), "child");
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(HomeLock::Holder(home_), "");
  EXPECT_TRUE(HomeLock::Acquire(home_, "after").ok());
}

}  // namespace
}  // namespace axon
