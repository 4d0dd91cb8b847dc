#include "http/url.h"

#include <gtest/gtest.h>

#include "http/responses.h"

namespace axon::http {
namespace {

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b+c"), "a b c");
  EXPECT_EQ(PercentDecode("%41%62"), "Ab");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

TEST(UrlTest, PercentEncodeRoundTrips) {
  EXPECT_EQ(PercentEncode("iris-1a2b.x_y~"), "iris-1a2b.x_y~");
  EXPECT_EQ(PercentEncode("a b&c=d+%\xff"), "a%20b%26c%3Dd%2B%25%FF");
  for (const std::string text : {"a b&c=d+%", "\xe9t\xe9", "", "&&=="}) {
    EXPECT_EQ(PercentDecode(PercentEncode(text)), text);
  }
}

TEST(UrlTest, ParseQuery) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseQuery("a=1&b=x%20y&c"), (Pairs{{"a", "1"}, {"b", "x y"}, {"c", ""}}));
  EXPECT_EQ(ParseQuery(""), Pairs{});
  EXPECT_EQ(ParseQuery("&&k=v&"), (Pairs{{"k", "v"}}));
}

// Regression (found by fuzz/gateway_request): a 404 naming a path that is not UTF-8 threw from
// nlohmann::json::dump() instead of answering.
TEST(ResponsesTest, MessagesWithBytesThatAreNotUtf8StillMakeJson) {
  const Response res = JsonError(404, "no API is deployed at /caf\xff");
  EXPECT_EQ(res.result_int(), 404u);
  EXPECT_EQ(res.body(), "{\"error\":\"no API is deployed at /caf\xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace axon::http
