// For tests of Gateway::Handle() against stand-in servers: one request at a time, run to its
// end on the calling thread.
#pragma once

#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "gateway/gateway.h"
#include "http/server.h"

namespace axon::gateway::test_client {

// One io_context for every exchange of a test binary: the gateway's connection pools are per
// thread and keep idle connections, which must not outlive the io_context they were made on.
inline http::Response Send(Gateway& gateway, http::Request request) {
  static http::asio::io_context io;
  http::Response response;
  http::asio::co_spawn(
      io, [&]() -> http::asio::awaitable<void> { response = co_await gateway.Handle(request); },
      http::asio::detached);
  io.restart();
  io.run();
  return response;
}

// A request of `method` to `target`; a POST carries {"x": 1}.
inline http::Request Make(http::bhttp::verb method, const std::string& target) {
  http::Request request{method, target, 11};
  if (method == http::bhttp::verb::post) request.body() = R"({"x": 1})";
  request.prepare_payload();
  return request;
}

// A replica stand-in: an HTTP server on an abstract Unix socket of its own (named after `name`
// and the process), answering with `handler` on its one I/O thread; stopped when destroyed.
class StandIn {
 public:
  StandIn(const std::string& name, http::Handler handler)
      : socket_("@axon-" + name + "-" + std::to_string(::getpid())) {
    auto server = http::HttpServer::Create(
        {.listen_tcp = false, .threads = 1, .unix_socket = socket_}, std::move(handler));
    EXPECT_TRUE(server.ok()) << server.status().message();
    if (!server.ok()) return;
    server_ = std::move(server).value();
    server_->Start();
  }
  ~StandIn() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::milliseconds(100));
    server_->Wait();
  }
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;

  // Where the route table sends the replica's requests.
  const std::string& socket() const { return socket_; }

 private:
  const std::string socket_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace axon::gateway::test_client
