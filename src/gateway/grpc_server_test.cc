// GrpcServer with a real gRPC client, a real Gateway and, as its only replica, a socket that
// accepts connections and never answers.
#include "gateway/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "contract/routes.h"
#include "open_inference.grpc.pb.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
using namespace std::chrono_literals;

// Accepts connections on a loopback port, holds them open, and never writes a byte.
class SilentReplica {
 public:
  SilentReplica() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SilentReplica() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](http::beast::error_code ec, http::tcp::socket socket) {
      if (ec) return;
      held_.push_back(std::move(socket));
      ++accepted_;
      Accept();
    });
  }

  asio::io_context io_;
  http::tcp::acceptor acceptor_;
  std::vector<http::tcp::socket> held_;  // touched by thread_ only
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contract::RouteTable routes;
    routes.apis.push_back(
        {.name = "slow", .endpoint = "/slow", .version = 1, .timeout_ms = 60'000});
    routes.apis[0].replicas.push_back(
        {.id = "r", .version = 1, .host = "127.0.0.1", .port = replica_.port()});
    ASSERT_TRUE(gateway_.SetRoutes(routes).ok());
    auto server = GrpcServer::Start(gateway_, "127.0.0.1", 0, 1 << 20);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    stub_ = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  static void Deadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + 20s);
  }

  static inference::ModelInferRequest Infer(const std::string& model) {
    inference::ModelInferRequest request;
    request.set_model_name(model);
    auto* input = request.add_inputs();
    input->set_name("x");
    input->set_datatype("FP32");
    input->add_shape(1);
    input->mutable_contents()->add_fp32_contents(1);
    return request;
  }

  SilentReplica replica_;
  Gateway gateway_{"token", ""};
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(GrpcServerTest, AnswersFromTheGatewaysRoutes) {
  grpc::ClientContext live_context;
  Deadline(live_context);
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&live_context, {}, &live).ok());
  EXPECT_TRUE(live.live());
  grpc::ClientContext ready_context;
  Deadline(ready_context);
  inference::ModelReadyRequest ask;
  ask.set_name("slow");
  ask.set_version("1");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(stub_->ModelReady(&ready_context, ask, &ready).ok());
  EXPECT_TRUE(ready.ready());
  grpc::ClientContext infer_context;
  Deadline(infer_context);
  inference::ModelInferResponse response;
  const grpc::Status unknown = stub_->ModelInfer(&infer_context, Infer("nope"), &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("no model named \"nope\""), std::string::npos);
}

// Regression guard for shutdown: a call whose replica never answers must not keep the server
// (and the gateway's exit) waiting. gRPC cancels it at the end of the drain (the client sees
// UNAVAILABLE), but its Shutdown() returns only once every call has been finished, which the
// server does for the calls still forwarding (without that, this test hangs).
TEST_F(GrpcServerTest, CallsStillForwardingAfterTheDrainAreAnsweredUnavailable) {
  grpc::Status status;
  std::thread caller([&] {
    grpc::ClientContext context;
    Deadline(context);
    inference::ModelInferResponse response;
    status = stub_->ModelInfer(&context, Infer("slow"), &response);
  });
  for (int i = 0; i < 500 && replica_.accepted() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(replica_.accepted(), 1);  // the call is with the replica now
  server_->Shutdown(100ms);
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

}  // namespace
}  // namespace axon::gateway
