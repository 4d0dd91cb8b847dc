// Gateway::Handle() on a route table built in the test, for answers a real platform reaches
// only in a race: a TrafficSplitter whose API is gone (the operator refuses to delete an API a
// splitter names, so only a route table between two updates has one). And HandleAdmin()'s
// GET /_axon/held against a request held in the same event loop.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "contract/routes.h"
#include "gateway/gateway.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;

http::Response Send(Gateway& gateway, http::Request request, bool admin = false) {
  asio::io_context io;
  http::Response response;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // (No co_await inside ?: : g++ 12 destroys the temporaries of such an expression twice.)
        if (admin) {
          response = co_await gateway.HandleAdmin(request);
        } else {
          response = co_await gateway.Handle(request);
        }
      },
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

http::Request AdminGet(const std::string& target) {
  http::Request request{http::bhttp::verb::get, target, 11};
  request.set(http::bhttp::field::authorization, "Bearer token");
  return request;
}

int64_t HeldIn(const http::Response& response) {
  return nlohmann::json::parse(response.body()).at("held").get<int64_t>();
}

// GET /_axon/held answers as soon as a request is held for an API with no ready replica: the
// operator waits on it to start a replica at once.
TEST(GatewayDispatchTest, HeldWaitAnswersWhenARequestIsHeldForAnApiAtZero) {
  contract::RouteTable routes;
  routes.apis.push_back({.name = "nap", .endpoint = "/nap", .version = 1, .status = "live"});
  routes.apis[0].hold_timeout_ms = 200;  // the held request gives up (503) after that
  routes.apis[0].max_held = 10;
  Gateway gateway("token", "");
  ASSERT_TRUE(gateway.SetRoutes(routes).ok());
  EXPECT_EQ(HeldIn(Send(gateway, AdminGet("/_axon/held?after=-1"), /*admin=*/true)), 0);
  EXPECT_EQ(HeldIn(Send(gateway, AdminGet("/_axon/held?after=0&wait_ms=1"), true)), 0);

  asio::io_context io;
  http::Response watched;
  bool watch_answered = false;
  bool watch_answered_first = false;
  http::Response predicted;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http::Request request = AdminGet("/_axon/held?after=0&wait_ms=30000");
        watched = co_await gateway.HandleAdmin(request);
        watch_answered = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http::Request request{http::bhttp::verb::post, "/nap", 11};
        request.body() = "{}";
        request.prepare_payload();
        predicted = co_await gateway.Handle(request);
        watch_answered_first = watch_answered;  // woken by the hold, not by its 30 s
      },
      asio::detached);
  io.run();
  EXPECT_EQ(predicted.result_int(), 503);  // no replica came within the hold timeout
  EXPECT_TRUE(watch_answered_first);
  EXPECT_EQ(watched.result_int(), 200);
  EXPECT_EQ(HeldIn(watched), 1);
  EXPECT_EQ(HeldIn(Send(gateway, AdminGet("/_axon/held?after=0&wait_ms=30000"), true)), 1);
  EXPECT_EQ(
      Send(gateway, http::Request{http::bhttp::verb::get, "/_axon/held", 11}, true).result_int(),
      401);
}

}  // namespace
}  // namespace axon::gateway
