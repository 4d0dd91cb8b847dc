#include "operator/job_submission.h"

#include <gtest/gtest.h>

#include "common/files.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

class JobSubmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("axon-submission-" + RandomHex(6));
    fs::create_directories(root_ / "data");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Error(std::string_view body) {
    auto plan = ParseBatchSubmission(body, root_, limits_);
    EXPECT_FALSE(plan.ok()) << body;
    if (plan.ok()) return "";
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
    return plan.status().message();
  }

  fs::path root_;
  JobLimits limits_;
};

TEST_F(JobSubmissionTest, AnItemListIsCutIntoBatchesInOrder) {
  auto plan = ParseBatchSubmission(
      R"({"workers": 2, "item_list": {"items": [1, 2, 3, 4, 5], "batch_size": 2},
          "config": {"k": "v"}, "timeout": 30})",
      root_, limits_);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->workers, 2);
  EXPECT_EQ(plan->timeout_s, 30);
  EXPECT_EQ(plan->config["k"], "v");
  EXPECT_EQ(plan->batches, (std::vector<std::string>{"[1,2]", "[3,4]", "[5]"}));
  EXPECT_EQ(SubmissionJson(*plan),
            nlohmann::json::parse(R"({"workers": 2, "config": {"k": "v"}, "timeout": 30})"));
}

TEST_F(JobSubmissionTest, DelimitedFilesAreJsonLinesInsideTheApisFolder) {
  ASSERT_TRUE(WriteFileAtomic(root_ / "data" / "a.jsonl", "{\"x\": 1}\n\n[2]\r\n\"three\"\n").ok());
  ASSERT_TRUE(WriteFileAtomic(root_ / "b.jsonl", "4\n").ok());
  auto plan = ParseBatchSubmission(
      R"({"delimited_files": {"paths": ["data/a.jsonl", "./b.jsonl"], "batch_size": 3}})", root_,
      limits_);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->workers, 1);
  EXPECT_EQ(plan->batches, (std::vector<std::string>{R"([{"x":1},[2],"three"])", "[4]"}));
  EXPECT_NE(Error(R"({"delimited_files": {"paths": ["../secret"]}})").find("inside the folder"),
            std::string::npos);
  EXPECT_NE(Error(R"({"delimited_files": {"paths": ["/etc/passwd"]}})").find("inside the folder"),
            std::string::npos);
  EXPECT_NE(Error(R"({"delimited_files": {"paths": ["missing.jsonl"]}})").find("is not a file"),
            std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(root_ / "bad.jsonl", "1\n{oops\n").ok());
  EXPECT_NE(Error(R"({"delimited_files": {"paths": ["bad.jsonl"]}})").find("line 2 is not JSON"),
            std::string::npos);
}

TEST_F(JobSubmissionTest, ErrorsNameTheField) {
  EXPECT_NE(Error("not json").find("not JSON"), std::string::npos);
  EXPECT_NE(Error("[1]").find("must be a JSON object, got a list"), std::string::npos);
  EXPECT_NE(Error("{}").find("item_list or delimited_files is required"), std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": [1]}, "delimited_files": {"paths": ["a"]}})")
                .find("both given"),
            std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": []}})").find("item_list.items: must be a non-empty"),
            std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": 3}})").find("got a number"), std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": [1], "batch_size": 0}})")
                .find("item_list.batch_size: must be an integer from 1"),
            std::string::npos);
  EXPECT_NE(Error(R"({"workers": 0, "item_list": {"items": [1]}})").find("workers: must be"),
            std::string::npos);
  EXPECT_NE(Error(R"({"workers": 101, "item_list": {"items": [1]}})").find("to 100"),
            std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": [1]}, "config": 3})").find("config: must be"),
            std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": [1]}, "timeout": -1})").find("timeout: must be"),
            std::string::npos);
  EXPECT_NE(Error(R"({"item_list": {"items": [1]}, "wrokers": 2})")
                .find("wrokers: is not a field here; allowed: workers"),
            std::string::npos);
  limits_.max_batches = 2;
  EXPECT_NE(Error(R"({"item_list": {"items": [1, 2, 3]}})").find("more than 2"), std::string::npos);
}

TEST(TaskSubmission, ConfigAndTimeoutOrNothing) {
  auto plan = ParseTaskSubmission(R"({"config": {"day": 3}, "timeout": 5})");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->config["day"], 3);
  EXPECT_EQ(plan->timeout_s, 5);
  EXPECT_EQ(plan->batches.size(), 1u);
  EXPECT_TRUE(ParseTaskSubmission("").ok());
  EXPECT_FALSE(ParseTaskSubmission(R"({"workers": 2})").ok());
  EXPECT_FALSE(ParseTaskSubmission(R"({"config": []})").ok());
}

}  // namespace
}  // namespace axon::operator_
