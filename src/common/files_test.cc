#include "common/files.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace axon {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("axon-files-test-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FilesTest, WriteAtomicThenReadBack) {
  const auto path = dir_ / "sub" / "f.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "hello").ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "hello");
}

TEST_F(FilesTest, WriteAtomicAppliesPermissions) {
  const auto path = dir_ / "secret";
  ASSERT_TRUE(
      WriteFileAtomic(path, "x",
                      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
          .ok());
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(FilesTest, ReadMissingFileIsNotFound) {
  auto read = ReadFile(dir_ / "missing");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
}

TEST_F(FilesTest, TailReturnsLastLines) {
  ASSERT_TRUE(WriteFileAtomic(dir_ / "log", "a\nb\nc\nd\n").ok());
  EXPECT_EQ(TailFile(dir_ / "log", 2), "c\nd\n");
  EXPECT_EQ(TailFile(dir_ / "log", 10), "a\nb\nc\nd\n");
  EXPECT_EQ(TailFile(dir_ / "none", 3), "");
  EXPECT_EQ(TailFile(dir_ / "log", 0), "");
}

// Regression: past the last 64 KiB, the first line of the window was returned cut.
TEST_F(FilesTest, TailFileReturnsWholeLinesOfALargeFile) {
  std::string text;
  for (int i = 0; text.size() < 200 * 1024; ++i) text += "line " + std::to_string(i) + " of many\n";
  ASSERT_TRUE(WriteFileAtomic(dir_ / "big", text).ok());
  const std::string tail = TailFile(dir_ / "big", 1'000'000);
  ASSERT_FALSE(tail.empty());
  EXPECT_LE(tail.size(), 64u * 1024);
  EXPECT_EQ(tail.rfind("line ", 0), 0u) << tail.substr(0, 40);
  EXPECT_TRUE(text.ends_with(tail));
  EXPECT_EQ(text[text.size() - tail.size() - 1], '\n');
}

TEST(RandomHexTest, LengthAndVariety) {
  const auto a = RandomHex(16);
  EXPECT_EQ(a.size(), 32U);
  EXPECT_NE(a, RandomHex(16));
}

}  // namespace
}  // namespace axon

namespace axon {
namespace {

TEST_F(FilesTest, RotateMovesLargeFilesAndTruncates) {
  const auto log = dir_ / "api.log";
  ASSERT_TRUE(WriteFileAtomic(log, "first\n").ok());
  RotateIfLarger(log, 100, 2);  // small: untouched
  EXPECT_EQ(*ReadFile(log), "first\n");
  RotateIfLarger(log, 3, 2);
  EXPECT_EQ(*ReadFile(log), "");
  EXPECT_EQ(*ReadFile(dir_ / "api.log.1"), "first\n");
  ASSERT_TRUE(WriteFileAtomic(log, "second\n").ok());
  RotateIfLarger(log, 3, 2);
  EXPECT_EQ(*ReadFile(dir_ / "api.log.1"), "second\n");
  EXPECT_EQ(*ReadFile(dir_ / "api.log.2"), "first\n");
}

}  // namespace
}  // namespace axon
