// TrafficSplitter specs: what parses, and the precise errors of what does not.
#include <gtest/gtest.h>

#include "spec/spec_parser.h"

namespace axon::spec {
namespace {

ParseResult Parse(const std::string& yaml) { return ParseSpecText(yaml, "axon.yaml"); }

// The one error of `yaml`, as printed.
std::string OnlyError(const std::string& yaml) {
  const ParseResult result = Parse(yaml);
  if (result.errors.size() != 1) return "expected one error, got:\n" + result.ErrorText();
  return result.errors[0].ToString();
}

constexpr char kHead[] = "name: split\nkind: TrafficSplitter\n";

TEST(SplitterParserTest, ParsesApisWeightsAndShadow) {
  const ParseResult result = Parse(std::string(kHead) +
                                   "networking:\n  endpoint: /predict\n"
                                   "apis:\n"
                                   "  - {name: iris-a, weight: 90}\n"
                                   "  - {name: iris-b, weight: 10}\n"
                                   "  - {name: iris-c, shadow: true}\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_EQ(api.kind, "TrafficSplitter");
  EXPECT_FALSE(api.RunsReplicas());
  EXPECT_EQ(api.networking.endpoint, "/predict");
  ASSERT_EQ(api.apis.size(), 3u);
  EXPECT_EQ(api.apis[0], (SplitTarget{.name = "iris-a", .weight = 90}));
  EXPECT_EQ(api.apis[1].source_line, 7);
  EXPECT_EQ(api.apis[2], (SplitTarget{.name = "iris-c", .weight = 100, .shadow = true}));
  // The stored form keeps every field, and where each entry was declared.
  const ApiSpec round = ApiSpecFromJson(ToJson(api));
  EXPECT_EQ(round, api);
  EXPECT_EQ(round.apis[1].source_line, 7);
}

TEST(SplitterParserTest, EndpointDefaultsToName) {
  const ParseResult result = Parse(std::string(kHead) + "apis: [{name: a, weight: 100}]\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].networking.endpoint, "/split");
}

TEST(SplitterParserTest, RealtimeSpecJsonHasNoApisKey) {
  ApiSpec realtime;
  realtime.name = "iris";
  EXPECT_FALSE(ToJson(realtime).contains("apis"));  // stored forms of older kinds unchanged
}

struct BadSplitter {
  const char* name;
  std::string body;  // after kHead
  std::string error;
};

class BadSplitterTest : public ::testing::TestWithParam<BadSplitter> {};

TEST_P(BadSplitterTest, ReportsOneExactError) {
  EXPECT_EQ(OnlyError(kHead + GetParam().body), GetParam().error);
}

const BadSplitter kBad[] = {
    {"MissingApis", "",
     "axon.yaml:1: api \"split\": apis: is required: a list of {name, weight} whose weights sum "
     "to 100, e.g. [{name: iris-a, weight: 90}, {name: iris-b, weight: 10}]"},
    {"EmptyApis", "apis: []\n",
     "axon.yaml:3: api \"split\": apis: must be a list of {name, weight} whose weights sum to "
     "100, e.g. [{name: iris-a, weight: 90}, {name: iris-b, weight: 10}], got a list"},
    {"WeightsDoNotSum", "apis:\n  - {name: a, weight: 50}\n  - {name: b, weight: 40}\n",
     "axon.yaml:3: api \"split\": apis: the weights of the APIs that are not the shadow must sum "
     "to 100, got 90 (a: 50, b: 40)"},
    {"WeightMissing", "apis:\n  - {name: a}\n",
     "axon.yaml:4: api \"split\": apis[0].weight: is required: the percentage of requests this "
     "API receives (0 to 100; the weights of the APIs that are not the shadow sum to 100)"},
    {"WeightTooBig", "apis:\n  - {name: a, weight: 101}\n",
     "axon.yaml:4: api \"split\": apis[0].weight: must be an integer from 0 to 100, got 101"},
    {"ShadowWeightZero",
     "apis:\n  - {name: a, weight: 100}\n  - {name: b, shadow: true, weight: 0}\n",
     "axon.yaml:5: api \"split\": apis[1].weight: must be an integer from 1 to 100, got 0"},
    {"TwoShadows",
     "apis:\n  - {name: a, weight: 100}\n  - {name: b, shadow: true}\n"
     "  - {name: c, shadow: true}\n",
     "axon.yaml:6: api \"split\": apis[2].shadow: only one API may be the shadow; \"b\" (line 5) "
     "already is"},
    {"OnlyShadow", "apis:\n  - {name: a, shadow: true}\n",
     "axon.yaml:3: api \"split\": apis: needs at least one API that is not the shadow: the "
     "shadow only receives copies of requests that another API answers"},
    {"ListedTwice", "apis:\n  - {name: a, weight: 50}\n  - {name: a, weight: 50}\n",
     "axon.yaml:5: api \"split\": apis[1].name: api \"a\" is listed twice (first on line 4); "
     "list each API once"},
    {"BadTargetName", "apis:\n  - {name: Iris_A, weight: 100}\n",
     "axon.yaml:4: api \"split\": apis[0].name: must be the name of a RealtimeAPI (a lowercase "
     "name of letters, digits and \"-\"), got \"Iris_A\""},
    {"MisspelledField",
     "apis:\n  - {name: a, wieght: 10, shadow: true}\n  - {name: b, weight: 100}\n",
     "axon.yaml:4: api \"split\": apis[0].wieght: unknown field; did you mean \"weight\"?"},
    {"Itself", "apis:\n  - {name: split, weight: 100}\n",
     "axon.yaml:4: api \"split\": apis[0].name: a TrafficSplitter cannot send requests to "
     "itself; name a RealtimeAPI"},
    {"Predictor", "apis: [{name: a, weight: 100}]\npredictor: {type: python}\n",
     "axon.yaml:4: api \"split\": predictor: is not a field of a TrafficSplitter, which runs no "
     "predictor: it sends each request to one of its apis, whose own predictor applies"},
    {"NodeGroups", "apis: [{name: a, weight: 100}]\nnode_groups: [spot]\n",
     "axon.yaml:4: api \"split\": node_groups: is not a field of a TrafficSplitter, which runs "
     "no predictor: it sends each request to one of its apis, whose own node_groups applies"},
    {"Timeout", "apis: [{name: a, weight: 100}]\nnetworking:\n  timeout: 5s\n",
     "axon.yaml:5: api \"split\": networking.timeout: is not a field of a TrafficSplitter: each "
     "request gets the networking.timeout of the API it is sent to"},
};

INSTANTIATE_TEST_SUITE_P(Splitter, BadSplitterTest, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SplitterParserTest, SplitterCannotTargetAnotherSplitterOfTheFile) {
  const std::string yaml =
      "- name: one\n  kind: TrafficSplitter\n  apis: [{name: two, weight: 100}]\n"
      "- name: two\n  kind: TrafficSplitter\n  apis: [{name: x, weight: 100}]\n";
  EXPECT_EQ(OnlyError(yaml),
            "axon.yaml:3: api \"one\": apis[0].name: api \"two\" (line 4) is a TrafficSplitter; a "
            "TrafficSplitter sends requests to RealtimeAPIs only");
}

}  // namespace
}  // namespace axon::spec
