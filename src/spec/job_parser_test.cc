// BatchAPI and TaskAPI specs: what they may have (a Python predictor, or a TaskAPI's
// definition; queue), what they may not (autoscaling, update_strategy, ...), and the errors.
#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

class JobParserTest : public SpecFileTest {
 protected:
  void SetUp() override {
    SpecFileTest::SetUp();
    Write("task.py", "class Task:\n    def __call__(self, config):\n        pass\n");
  }
};

constexpr char kBatch[] =
    "name: sums\nkind: BatchAPI\npredictor:\n  type: python\n  path: predictor.py\n";
constexpr char kTask[] = "name: report\nkind: TaskAPI\ndefinition:\n  path: task.py\n";

TEST_F(JobParserTest, ABatchApiIsAPythonPredictorWithAQueueAndNoAutoscaling) {
  const ParseResult result = Parse(std::string(kBatch) + "queue:\n  max_attempts: 2\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_TRUE(api.RunsJobs());
  EXPECT_TRUE(api.RunsReplicas());
  EXPECT_FALSE(api.ScalesReplicas());
  EXPECT_FALSE(api.IsAsync());
  EXPECT_EQ(api.queue.max_attempts, 2);
  EXPECT_EQ(api.networking.endpoint, "/sums");
  EXPECT_EQ(ApiSpecFromJson(ToJson(api)), api);
}

TEST_F(JobParserTest, ATaskApiReadsItsDefinitionAsAPythonPredictor) {
  const ParseResult result =
      Parse(std::string(kTask) + "  config: {days: 7}\n  env: {MODE: full}\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_TRUE(api.RunsJobs());
  EXPECT_EQ(api.predictor.type, "python");
  EXPECT_EQ(std::filesystem::path(api.predictor.path).filename(), "task.py");
  EXPECT_EQ(api.predictor.config["days"], 7);
  EXPECT_EQ(api.predictor.env.at("MODE"), "full");
  EXPECT_EQ(ApiSpecFromJson(ToJson(api)), api);
}

TEST_F(JobParserTest, Errors) {
  EXPECT_TRUE(HasError(Parse(std::string(kBatch) + "autoscaling:\n  min_replicas: 1\n"),
                       "axon.yaml:6: ", "autoscaling", "is not a field of a BatchAPI"));
  EXPECT_TRUE(HasError(Parse(std::string(kTask) + "update_strategy:\n  max_surge: 1\n"),
                       "axon.yaml:5: ", "update_strategy", "is not a field of a TaskAPI"));
  EXPECT_TRUE(HasError(Parse("name: sums\nkind: BatchAPI\npredictor:\n  type: onnx\n"
                             "  model_path: m.onnx\n"),
                       "axon.yaml:4: ", "predictor.type", "must be \"python\" for a BatchAPI"));
  EXPECT_TRUE(HasError(Parse(std::string(kBatch) + "  server_side_batching: {max_batch_size: 4}\n"),
                       "axon.yaml:6: ", "predictor.server_side_batching", "not for a BatchAPI"));
  EXPECT_TRUE(HasError(Parse(std::string(kTask) + "predictor:\n  type: python\n  path: task.py\n"),
                       "axon.yaml:5: ", "predictor", "name its code under definition"));
  EXPECT_TRUE(HasError(Parse("name: report\nkind: TaskAPI\n"), "axon.yaml:1: ", "definition",
                       "is required"));
  EXPECT_TRUE(HasError(Parse("name: report\nkind: TaskAPI\ndefinition:\n  config: {}\n"),
                       "axon.yaml:3: ", "definition.path", "class Task"));
  EXPECT_TRUE(HasError(Parse(std::string(kTask) + "  image: my/image\n"),
                       "axon.yaml:5: ", "definition.image", ""));
  EXPECT_TRUE(HasError(Parse(std::string(kTask) + "  type: python\n"), "axon.yaml:5: ", "",
                       "definition.type"));
  EXPECT_TRUE(HasError(Parse("name: report\nkind: TaskAPI\ndefinition:\n  path: missing.py\n"),
                       "axon.yaml:4: ", "definition.path", "file not found"));
  EXPECT_TRUE(HasError(Parse("name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: "
                             "predictor.py\ndefinition:\n  path: task.py\n"),
                       "axon.yaml:6: ", "definition", "is a field of a TaskAPI only"));
}

TEST_F(JobParserTest, ASplitterCannotSendToABatchApi) {
  EXPECT_TRUE(HasError(Parse(std::string("- ") + "name: sums\n  kind: BatchAPI\n  predictor: "
                                                 "{type: python, path: predictor.py}\n"
                                                 "- name: split\n  kind: TrafficSplitter\n"
                                                 "  apis: [{name: sums, weight: 100}]\n"),
                       "axon.yaml:6: ", "apis[0].name", "RealtimeAPIs only"));
}

}  // namespace
}  // namespace axon::spec
