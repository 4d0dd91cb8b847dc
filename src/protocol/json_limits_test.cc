#include "protocol/json_limits.h"

#include <gtest/gtest.h>

namespace axon::protocol {
namespace {

TEST(JsonLimitsTest, CountsNestingOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1", 10), 0);
  EXPECT_EQ(JsonNestingDepth(R"({"a": [[1], [2, [3]]]})", 10), 4);
  EXPECT_EQ(JsonNestingDepth(R"(["[[[[", "\"[[["])", 10), 1);
  EXPECT_EQ(JsonNestingDepth("]]]][", 10), 1);
}

// Regression: 200,000 nested '[' overflowed the replica's stack in the V1 decoder.
TEST(JsonLimitsTest, StopsEarlyOnDeepDocuments) {
  const std::string deep(200'000, '[');
  EXPECT_EQ(JsonNestingDepth(deep, 32), 33);
  Status s = CheckJsonNesting(deep, 32);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("more than 32 levels"), std::string::npos);
  EXPECT_TRUE(CheckJsonNesting("[[[1]]]", 3).ok());
}

}  // namespace
}  // namespace axon::protocol
