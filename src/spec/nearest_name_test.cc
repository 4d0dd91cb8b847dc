#include "spec/nearest_name.h"

#include <gtest/gtest.h>

namespace axon::spec {
namespace {

constexpr std::string_view kFields[] = {"type", "path", "config", "env", "threads_per_process"};

TEST(EditDistanceTest, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("path", "path"), 0u);
  EXPECT_EQ(EditDistance("pth", "path"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("flaw", "lawn"), 2u);
}

TEST(NearestNameTest, SuggestsCloseNames) {
  EXPECT_EQ(NearestName("pth", kFields), "path");
  EXPECT_EQ(NearestName("tpye", kFields), "type");
  EXPECT_EQ(NearestName("Config", kFields), "config");
  EXPECT_EQ(NearestName("threads", kFields), "threads_per_process");  // prefix
  EXPECT_EQ(NearestName("configuration", kFields), "config");         // prefix the other way
}

TEST(NearestNameTest, StaysQuietWhenNothingIsClose) {
  EXPECT_FALSE(NearestName("model_file", kFields).has_value());
  EXPECT_FALSE(NearestName("", kFields).has_value());
  EXPECT_FALSE(NearestName("xyz", std::span<const std::string_view>()).has_value());
}

TEST(QuotedListTest, QuotesAndSeparates) {
  constexpr std::string_view kTwo[] = {"cpu", "mem"};
  EXPECT_EQ(QuotedList(kTwo), "\"cpu\", \"mem\"");
  EXPECT_TRUE(ContainsName(kTwo, "mem"));
  EXPECT_FALSE(ContainsName(kTwo, "gpu"));
}

}  // namespace
}  // namespace axon::spec
