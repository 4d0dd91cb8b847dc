// The fields the gateway forwards: hop-by-hop fields (RFC 9110, section 7.6.1) describe one
// connection and go no further, in either direction; every other field passes, and both the
// replica and the client get the request's X-Request-ID. The replica is a stand-in server that
// records the fields it receives and answers with hop-by-hop fields of its own.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>

#include "contract/routes.h"
#include "gateway/gateway.h"
#include "gateway/gateway_test_client.h"
#include "http/responses.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;

const std::set<std::string> kHopByHop = {
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE",
    "Trailer",    "Upgrade"};

std::set<std::string> Names(const bhttp::fields& fields) {
  std::set<std::string> names;
  for (const auto& field : fields) names.insert(std::string(field.name_string()));
  return names;
}

TEST(GatewayHeadersTest, HopByHopFieldsStopAtTheGatewayBothWays) {
  std::mutex mu;
  std::set<std::string> seen;  // guarded by mu
  test_client::StandIn replica("headers-test",
                               [&](http::Request& req) -> asio::awaitable<http::Response> {
                                 {
                                   std::lock_guard lock(mu);
                                   seen = Names(req);
                                 }
                                 http::Response response = http::JsonResponse(200, {{"ok", true}});
                                 response.set(bhttp::field::keep_alive, "timeout=5");
                                 response.set(bhttp::field::proxy_authenticate, "Basic");
                                 response.set(bhttp::field::upgrade, "h2c");
                                 response.set("X-Answer", "kept");
                                 co_return response;
                               });
  contract::RouteTable routes;
  routes.apis.push_back({.name = "echo", .endpoint = "/echo", .version = 1, .status = "live"});
  routes.apis[0].timeout_ms = 2000;
  routes.apis[0].replicas.push_back(
      {.id = "echo-1", .version = 1, .host = "127.0.0.1", .port = 0, .socket = replica.socket()});
  Gateway gateway("platform-token", "");
  ASSERT_TRUE(gateway.SetRoutes(routes).ok());

  http::Request request = test_client::Make(bhttp::verb::post, "/echo");
  request.set(bhttp::field::connection, "keep-alive, TE");
  request.set(bhttp::field::keep_alive, "300");
  request.set(bhttp::field::te, "trailers");
  request.set(bhttp::field::upgrade, "h2c");
  request.set(bhttp::field::proxy_authorization, "Basic eDp5");
  request.set(bhttp::field::trailer, "X-Checksum");
  request.set("X-Custom", "1");
  const http::Response response = test_client::Send(gateway, std::move(request));
  ASSERT_EQ(response.result_int(), 200) << response.body();

  std::lock_guard lock(mu);
  for (const std::string& name : kHopByHop) {
    EXPECT_EQ(seen.count(name), 0U) << name << " reached the replica";
  }
  EXPECT_EQ(seen.count("X-Custom"), 1U);
  EXPECT_EQ(seen.count("X-Request-ID"), 1U);
  const std::set<std::string> answered = Names(response);
  for (const std::string& name : kHopByHop) {
    EXPECT_EQ(answered.count(name), 0U) << name << " reached the client";
  }
  EXPECT_EQ(response["X-Answer"], "kept");
  EXPECT_FALSE(response["X-Request-ID"].empty());
}

}  // namespace
}  // namespace axon::gateway
