#include "http/url.h"

#include <gtest/gtest.h>

namespace axon::http {
namespace {

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b+c"), "a b c");
  EXPECT_EQ(PercentDecode("%41%62"), "Ab");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

TEST(UrlTest, ParseQuery) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseQuery("a=1&b=x%20y&c"), (Pairs{{"a", "1"}, {"b", "x y"}, {"c", ""}}));
  EXPECT_EQ(ParseQuery(""), Pairs{});
  EXPECT_EQ(ParseQuery("&&k=v&"), (Pairs{{"k", "v"}}));
}

}  // namespace
}  // namespace axon::http
