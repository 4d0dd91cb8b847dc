// For tests of Gateway::Handle() against stand-in servers: one request at a time, run to its
// end on the calling thread.
#pragma once

#include <string>

#include "gateway/gateway.h"

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

}  // namespace axon::gateway::test_client
