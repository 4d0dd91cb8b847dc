// AsyncAPI specs: the queue section, its defaults, and the errors of what does not parse.
#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

class AsyncParserTest : public SpecFileTest {};

constexpr char kHead[] =
    "name: jobs\nkind: AsyncAPI\npredictor:\n  type: python\n  path: predictor.py\n";

TEST_F(AsyncParserTest, DefaultsAreCortexLike) {
  const ParseResult result = Parse(kHead);
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_TRUE(api.IsAsync());
  EXPECT_TRUE(api.RunsReplicas());
  EXPECT_EQ(api.networking.endpoint, "/jobs");
  EXPECT_EQ(api.queue.max_attempts, 3);
  EXPECT_EQ(api.queue.result_retention, std::chrono::hours(7 * 24));
}

TEST_F(AsyncParserTest, ParsesTheQueueAndRoundTrips) {
  const ParseResult result =
      Parse(std::string(kHead) + "queue:\n  max_attempts: 5\n  result_retention: 90m\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_EQ(api.queue.max_attempts, 5);
  EXPECT_EQ(api.queue.result_retention, std::chrono::minutes(90));
  EXPECT_EQ(ApiSpecFromJson(ToJson(api)), api);
}

TEST_F(AsyncParserTest, RealtimeSpecJsonHasNoQueueKey) {
  ApiSpec realtime;
  realtime.name = "iris";
  EXPECT_FALSE(ToJson(realtime).contains("queue"));  // content hashes of older kinds unchanged
}

TEST_F(AsyncParserTest, Errors) {
  EXPECT_TRUE(HasError(Parse(std::string(kHead) + "queue:\n  max_attempts: 0\n"),
                       "axon.yaml:7: ", "queue.max_attempts", "got 0"));
  EXPECT_TRUE(HasError(Parse(std::string(kHead) + "queue:\n  result_retention: 7d\n"),
                       "axon.yaml:7: ", "queue.result_retention", "got \"7d\""));
  EXPECT_TRUE(HasError(Parse(std::string(kHead) + "queue:\n  retries: 2\n"), "axon.yaml:7: ", "",
                       "queue.retries"));
  EXPECT_TRUE(
      HasError(Parse(std::string(kHead) + "queue: 3\n"), "axon.yaml:6: ", "queue", "mapping"));
  EXPECT_TRUE(HasError(Parse("name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: "
                             "predictor.py\nqueue:\n  max_attempts: 2\n"),
                       "axon.yaml:6: ", "queue",
                       "is a field of an AsyncAPI, BatchAPI or TaskAPI only"));
}

TEST_F(AsyncParserTest, ASplitterCannotSendToAnAsyncApi) {
  EXPECT_TRUE(HasError(Parse(std::string("- ") + "name: jobs\n  kind: AsyncAPI\n  predictor: "
                                                 "{type: python, path: predictor.py}\n"
                                                 "- name: split\n  kind: TrafficSplitter\n"
                                                 "  apis: [{name: jobs, weight: 100}]\n"),
                       "axon.yaml:6: ", "apis[0].name",
                       "is an AsyncAPI; a TrafficSplitter sends requests to RealtimeAPIs only"));
}

}  // namespace
}  // namespace axon::spec
