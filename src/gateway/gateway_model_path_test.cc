// The path form of an API that serves many models: /<endpoint>/<model> goes to the replica as
// /predict?model=<model> with the rest of the query kept, /<endpoint>/metadata keeps its
// meaning, and only APIs marked many_models take the form. The replica is a stand-in server on
// an abstract Unix socket that records the targets it receives.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "contract/routes.h"
#include "gateway/gateway.h"
#include "gateway/gateway_test_client.h"
#include "gateway/model_path.h"
#include "http/responses.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;

contract::RouteTable Routes(bool many_models, const std::string& socket) {
  contract::RouteTable routes;
  routes.apis.push_back({.name = "zoo", .endpoint = "/zoo", .version = 1, .status = "live"});
  routes.apis[0].many_models = many_models;
  routes.apis[0].timeout_ms = 2000;
  routes.apis[0].replicas.push_back(
      {.id = "zoo-1", .version = 1, .host = "127.0.0.1", .port = 0, .socket = socket});
  routes.apis.push_back({.name = "plain", .endpoint = "/plain", .version = 1, .status = "live"});
  return routes;
}

TEST(ModelPathTest, MatchesOnlyAnApiThatServesManyModels) {
  auto table = RouteTable::Build(Routes(true, "@unused"), nullptr);
  ASSERT_TRUE(table.ok()) << table.status().message();
  ModelPathMatch match = MatchModelPath(**table, "/zoo/iris");
  ASSERT_NE(match.api, nullptr);
  EXPECT_EQ(match.api->name(), "zoo");
  EXPECT_EQ(match.status, 0);
  EXPECT_EQ(match.target, "/zoo?model=iris");
  EXPECT_EQ(MatchModelPath(**table, "/zoo/a-1_b.c?version=2&x=%20").target,
            "/zoo?model=a-1_b.c&version=2&x=%20");
  EXPECT_EQ(MatchModelPath(**table, "/plain/iris").api, nullptr);
  EXPECT_EQ(MatchModelPath(**table, "/other/iris").api, nullptr);
  EXPECT_EQ(MatchModelPath(**table, "/zoo").api, nullptr);
  EXPECT_EQ(MatchModelPath(**table, "/iris").api, nullptr);

  auto plain = RouteTable::Build(Routes(false, "@unused"), nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(MatchModelPath(**plain, "/zoo/iris").api, nullptr);
}

TEST(ModelPathTest, RefusesBadNamesAndAModelNamedTwice) {
  auto table = RouteTable::Build(Routes(true, "@unused"), nullptr);
  ASSERT_TRUE(table.ok());
  for (const char* target : {"/zoo/", "/zoo/.hidden", "/zoo/a%20b", "/zoo/a/b"}) {
    // "/zoo/a/b" is under /zoo/a, which is not an endpoint: no match at all.
    const ModelPathMatch match = MatchModelPath(**table, target);
    if (std::string_view(target) == "/zoo/a/b") {
      EXPECT_EQ(match.api, nullptr);
      continue;
    }
    EXPECT_EQ(match.status, 404) << target;
    EXPECT_NE(match.error.find("serves its models at /zoo/<model>"), std::string::npos)
        << match.error;
  }
  const ModelPathMatch twice = MatchModelPath(**table, "/zoo/iris?model=other");
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(twice.error.find("named twice"), std::string::npos) << twice.error;
}

using test_client::Make;
using test_client::Send;

class GatewayModelPathTest : public ::testing::Test {
 protected:
  std::vector<std::string> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::mutex mu_;
  std::vector<std::string> seen_;  // guarded by mu_
  Gateway gateway_{"platform-token", ""};
  test_client::StandIn replica_{
      "model-path-test", [this](http::Request& req) -> asio::awaitable<http::Response> {
        std::lock_guard lock(mu_);
        seen_.push_back(std::string(req.method_string()) + " " + std::string(req.target()));
        co_return http::JsonResponse(200, {{"ok", true}});
      }};
  const std::string& socket_ = replica_.socket();
};

TEST_F(GatewayModelPathTest, TheModelInThePathGoesToTheReplicaAsTheQuery) {
  ASSERT_TRUE(gateway_.SetRoutes(Routes(true, socket_)).ok());
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/zoo/iris")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/zoo/iris?version=2")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/zoo/iris")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/zoo?model=iris")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/zoo/metadata")).result_int(), 200);
  EXPECT_EQ(Seen(), (std::vector<std::string>{
                        "POST /predict?model=iris", "POST /predict?model=iris&version=2",
                        "GET /predict?model=iris", "POST /predict?model=iris", "GET /metadata"}));
  // The path form counts as a prediction of the API; metadata does not.
  EXPECT_EQ(gateway_.Stats().apis.at("zoo").responses_2xx, 4u);
}

TEST_F(GatewayModelPathTest, RefusedPathsNeverReachTheReplica) {
  ASSERT_TRUE(gateway_.SetRoutes(Routes(true, socket_)).ok());
  const http::Response twice = Send(gateway_, Make(bhttp::verb::post, "/zoo/iris?model=b"));
  EXPECT_EQ(twice.result_int(), 400);
  EXPECT_NE(twice.body().find("named twice"), std::string::npos) << twice.body();
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/zoo/.x")).result_int(), 404);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::delete_, "/zoo/iris")).result_int(), 405);
  EXPECT_TRUE(Seen().empty());
}

TEST_F(GatewayModelPathTest, AnApiOfOneModelHasNoPathForm) {
  ASSERT_TRUE(gateway_.SetRoutes(Routes(false, socket_)).ok());
  const http::Response response = Send(gateway_, Make(bhttp::verb::post, "/zoo/iris"));
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_NE(response.body().find("no API is deployed at /zoo/iris"), std::string::npos)
      << response.body();
  EXPECT_TRUE(Seen().empty());
}

}  // namespace
}  // namespace axon::gateway
