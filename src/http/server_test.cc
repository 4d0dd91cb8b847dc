#include "http/server.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "http/client.h"
#include "http/responses.h"
#include "http/upstream_pool.h"

namespace axon::http {
namespace {

using namespace std::chrono_literals;

// An echo server: answers the method, target and body it received.
std::unique_ptr<HttpServer> StartEchoServer(uint64_t max_body = 1024) {
  auto server = HttpServer::Create(
      {.threads = 2, .max_body_bytes = max_body}, [](Request& req) -> asio::awaitable<Response> {
        co_return TextResponse(
            200,
            std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body(),
            "text/plain");
      });
  EXPECT_TRUE(server.ok()) << server.status().message();
  (*server)->Start();
  return std::move(server).value();
}

TEST(HttpServerTest, AnswersRequests) {
  auto server = StartEchoServer();
  auto res = Fetch("127.0.0.1", server->port(),
                   MakeRequest(bhttp::verb::post, "/x?y=1", "", "hi", "text/plain"), 2s);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(res->body(), "POST /x?y=1 hi");
}

TEST(HttpServerTest, OversizedBodyIs413) {
  auto server = StartEchoServer(16);
  auto res = Fetch("127.0.0.1", server->port(),
                   MakeRequest(bhttp::verb::post, "/", "", std::string(100, 'x')), 2s);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->result_int(), 413);
  EXPECT_NE(res->body().find("exceeds the limit of 16 bytes"), std::string::npos);
}

TEST(HttpServerTest, FetchFromClosedPortIsUnavailable) {
  uint16_t port = 0;
  {
    auto server = StartEchoServer();
    port = server->port();
    server->Shutdown(0ms);
  }
  auto res = Fetch("127.0.0.1", port, MakeRequest(bhttp::verb::get, "/"), 1s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
}

TEST(UpstreamPoolTest, ReusesKeepAliveConnections) {
  auto server = StartEchoServer();
  asio::io_context io;
  UpstreamPool pool;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server->port());
  std::vector<std::string> bodies;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
          Request req = MakeRequest(bhttp::verb::post, "/p", "", std::to_string(i));
          req.prepare_payload();
          auto result = co_await pool.Send(endpoint, req, 2s);
          EXPECT_FALSE(result.error) << result.error.message();
          bodies.push_back(result.response.body());
          EXPECT_EQ(pool.idle_connections(), 1U);
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(bodies, (std::vector<std::string>{"POST /p 0", "POST /p 1", "POST /p 2"}));
}

TEST(UpstreamPoolTest, ConnectFailureIsNotDelivered) {
  uint16_t port = 0;
  {
    auto server = StartEchoServer();
    port = server->port();
  }
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request req = MakeRequest(bhttp::verb::get, "/");
        result = co_await pool.Send({asio::ip::make_address("127.0.0.1"), port}, req, 1s);
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(result.error);
  EXPECT_FALSE(result.maybe_delivered);
}

}  // namespace
}  // namespace axon::http

namespace axon::http {
namespace {

// Unix socket endpoints are told apart by their address bytes, a name and a longer name that
// starts with it included, and Prune keeps the live one's connections.
TEST(UpstreamPoolTest, KeepsConnectionsPerUnixSocket) {
  const std::string a = "@axon-pool-" + std::to_string(::getpid());
  const std::string b = a + "b";
  std::vector<std::unique_ptr<HttpServer>> servers;
  for (const std::string& name : {a, b}) {
    auto server = HttpServer::Create({.threads = 1, .unix_socket = name},
                                     [name](Request&) -> asio::awaitable<Response> {
                                       co_return TextResponse(200, name, "text/plain");
                                     });
    ASSERT_TRUE(server.ok()) << server.status().message();
    (*server)->Start();
    servers.push_back(std::move(*server));
  }
  asio::io_context io;
  LocalUpstreamPool pool;
  std::vector<std::string> bodies;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (const std::string& name : {a, b, a, b}) {
          Request req = MakeRequest(bhttp::verb::get, "/");
          auto result = co_await pool.Send(LocalEndpoint(name), req, std::chrono::seconds(2));
          EXPECT_FALSE(result.error) << result.error.message();
          bodies.push_back(result.response.body());
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(bodies, (std::vector<std::string>{a, b, a, b}));
  EXPECT_EQ(pool.idle_connections(), 2U);
  pool.Prune({LocalEndpoint(b)});
  EXPECT_EQ(pool.idle_connections(), 1U);
}

TEST(HttpServerTest, ServesOverAnAbstractUnixSocket) {
  const std::string name = "@axon-test-" + std::to_string(::getpid());
  auto server = HttpServer::Create({.threads = 1, .unix_socket = name},
                                   [](Request& req) -> asio::awaitable<Response> {
                                     co_return TextResponse(200, req.body(), "text/plain");
                                   });
  ASSERT_TRUE(server.ok()) << server.status().message();
  (*server)->Start();
  asio::io_context io;
  LocalUpstreamPool pool;
  std::vector<std::string> bodies;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
          Request req = MakeRequest(bhttp::verb::post, "/", "", "over uds " + std::to_string(i));
          req.prepare_payload();
          auto result = co_await pool.Send(LocalEndpoint(name), req, std::chrono::seconds(2));
          EXPECT_FALSE(result.error) << result.error.message();
          bodies.push_back(result.response.body());
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(bodies, (std::vector<std::string>{"over uds 0", "over uds 1"}));
  EXPECT_EQ(pool.idle_connections(), 1U);  // the keep-alive connection was reused
}

}  // namespace
}  // namespace axon::http

namespace axon::http {
namespace {

// A peer that answers every connection with headers first and the body 50 ms later, in a
// second write, as many servers do.
class SplitAnswerPeer {
 public:
  SplitAnswerPeer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      for (int i = 0; i < 2; ++i) {
        tcp::socket socket(io_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return;
        char buf[4096];
        (void)socket.read_some(asio::buffer(buf), ec);
        asio::write(socket,
                    asio::buffer(std::string_view(
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")),
                    ec);
        std::this_thread::sleep_for(50ms);
        asio::write(socket, asio::buffer(std::string_view("hello")), ec);
      }
    });
  }
  ~SplitAnswerPeer() {
    beast::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// Regression: with body_limit(boost::none), Beast 1.74 failed such answers with "body limit
// exceeded" (both in the control-plane client and in the gateway's upstream pool).
TEST(HttpClientTest, ReadsABodyThatArrivesAfterItsHeaders) {
  SplitAnswerPeer peer;
  auto res = Fetch("127.0.0.1", peer.port(), MakeRequest(bhttp::verb::get, "/"), 5s);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->body(), "hello");
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request req = MakeRequest(bhttp::verb::get, "/");
        req.prepare_payload();
        result = co_await pool.Send({asio::ip::make_address("127.0.0.1"), peer.port()}, req, 5s);
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.response.body(), "hello");
}

}  // namespace
}  // namespace axon::http
