// Gateway::Handle() for an AsyncAPI: submissions and status reads go to the operator's async
// listener (here a stand-in server on an abstract Unix socket) with the platform token, the
// methods that are not an AsyncAPI's are refused, and a listener that does not answer is a 503
// that says to retry.
#include <unistd.h>

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "contract/routes.h"
#include "gateway/gateway.h"
#include "gateway/gateway_test_client.h"
#include "http/responses.h"
#include "http/server.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;

using test_client::Make;
using test_client::Send;

struct Seen {
  std::string method;
  std::string target;
  std::string authorization;
  std::string body;
};

class GatewayAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routes_.apis.push_back({.name = "jobs", .endpoint = "/jobs", .version = 1, .status = "live"});
    routes_.apis[0].async = true;
    routes_.apis[0].timeout_ms = 2000;
    routes_.apis[0].replicas.push_back(
        {.id = "operator", .version = 1, .host = "127.0.0.1", .port = 0, .socket = listener_});
    ASSERT_TRUE(gateway_.SetRoutes(routes_).ok());
  }
  void StartListener() {
    auto server = http::HttpServer::Create(
        {.listen_tcp = false, .threads = 1, .unix_socket = listener_},
        [this](http::Request& req) -> asio::awaitable<http::Response> {
          std::lock_guard lock(mu_);
          seen_.push_back({std::string(req.method_string()), std::string(req.target()),
                           std::string(req[bhttp::field::authorization]), req.body()});
          co_return http::JsonResponse(200, {{"id", "0123abcd"}});
        });
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    server_->Start();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::milliseconds(100));
      server_->Wait();
    }
  }

  const std::string listener_ = "@axon-async-test-" + std::to_string(::getpid());
  contract::RouteTable routes_;
  Gateway gateway_{"platform-token", ""};
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::vector<Seen> seen_;  // guarded by mu_
};

TEST_F(GatewayAsyncTest, SubmissionsAndReadsGoToTheListenerWithTheToken) {
  StartListener();
  http::Request submit = Make(bhttp::verb::post, "/jobs");
  submit.set(bhttp::field::authorization, "Bearer the-client's-own");
  EXPECT_EQ(Send(gateway_, std::move(submit)).body(), R"({"id":"0123abcd"})");
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/jobs/0123abcd")).result_int(), 200);
  std::lock_guard lock(mu_);
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[0].method, "POST");
  EXPECT_EQ(seen_[0].target, "/_axon/async/jobs");
  EXPECT_EQ(seen_[0].authorization, "Bearer platform-token");
  EXPECT_EQ(seen_[0].body, R"({"x": 1})");
  EXPECT_EQ(seen_[1].method, "GET");
  EXPECT_EQ(seen_[1].target, "/_axon/async/jobs/0123abcd");
  // Both count in the API's statistics.
  EXPECT_EQ(gateway_.Stats().apis.at("jobs").responses_2xx, 2u);
}

TEST_F(GatewayAsyncTest, MethodsThatAreNotAnAsyncApisAreRefused) {
  StartListener();
  const http::Response get = Send(gateway_, Make(bhttp::verb::get, "/jobs"));
  EXPECT_EQ(get.result_int(), 405);
  EXPECT_NE(get.body().find("POST a request to /jobs"), std::string::npos) << get.body();
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/jobs/0123abcd")).result_int(), 405);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/other/0123abcd")).result_int(), 404);
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(GatewayAsyncTest, AJobApiPassesEveryMethodAndTheQueryToTheListener) {
  routes_.apis[0].jobs = true;
  ASSERT_TRUE(gateway_.SetRoutes(routes_).ok());
  StartListener();
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::post, "/jobs")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/jobs?jobID=0123abcd")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::delete_, "/jobs/0123abcd")).result_int(), 200);
  EXPECT_EQ(Send(gateway_, Make(bhttp::verb::get, "/jobs")).result_int(), 200);
  std::lock_guard lock(mu_);
  ASSERT_EQ(seen_.size(), 4u);
  EXPECT_EQ(seen_[1].method, "GET");
  EXPECT_EQ(seen_[1].target, "/_axon/async/jobs?jobID=0123abcd");
  EXPECT_EQ(seen_[2].method, "DELETE");
  EXPECT_EQ(seen_[2].target, "/_axon/async/jobs/0123abcd");
  EXPECT_EQ(seen_[3].target, "/_axon/async/jobs");
  EXPECT_EQ(seen_[3].authorization, "Bearer platform-token");
}

TEST_F(GatewayAsyncTest, AListenerThatDoesNotAnswerIsA503ToRetry) {
  const http::Response response = Send(gateway_, Make(bhttp::verb::post, "/jobs"));
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_NE(response.body().find("retry later"), std::string::npos) << response.body();
}

}  // namespace
}  // namespace axon::gateway
