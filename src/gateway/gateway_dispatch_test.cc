// Gateway::Handle() on a route table built in the test, for answers a real platform reaches
// only in a race: a TrafficSplitter whose API is gone (the operator refuses to delete an API a
// splitter names, so only a route table between two updates has one).
#include <gtest/gtest.h>

#include "contract/routes.h"
#include "gateway/gateway.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;

http::Response Send(Gateway& gateway, http::Request request) {
  asio::io_context io;
  http::Response response;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { response = co_await gateway.Handle(request); },
      asio::detached);
  io.run();
  return response;
}

TEST(GatewayDispatchTest, SplitterWhoseApiIsGoneAnswers503AndCountsIt) {
  contract::RouteTable routes;
  routes.apis.push_back({.name = "split", .endpoint = "/split", .version = 1});
  routes.apis[0].split.push_back({.api = "gone", .weight = 100});
  Gateway gateway("token", "");
  ASSERT_TRUE(gateway.SetRoutes(routes).ok());
  http::Request request{http::bhttp::verb::post, "/split", 11};
  request.body() = "{}";
  request.prepare_payload();
  const http::Response response = Send(gateway, std::move(request));
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_NE(response.body().find("api gone of traffic splitter split is not deployed"),
            std::string::npos)
      << response.body();
  // Regression: this answer used to be counted nowhere.
  EXPECT_EQ(gateway.Stats().apis.at("split").responses_5xx, 1u);
}

}  // namespace
}  // namespace axon::gateway
