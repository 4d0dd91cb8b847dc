#include "http/client.h"

#include <cstdint>
#include <limits>

namespace axon::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

asio::awaitable<void> Exchange(const std::string& host, uint16_t port, Request& request,
                               std::chrono::milliseconds timeout, Response& response,
                               beast::error_code& ec) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                   redirect_error(use_awaitable, ec));
  if (ec) co_return;
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(endpoints, redirect_error(use_awaitable, ec));
  if (ec) co_return;
  co_await bhttp::async_write(stream, request, redirect_error(use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  // No limit. Not boost::none: Boost 1.74 compares the Content-Length against the optional
  // limit, and any length is "greater" than none, so an answer whose header is parsed before
  // its body arrives failed with "body limit exceeded".
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (!ec) response = parser.release();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

StatusOr<Response> Fetch(const std::string& host, uint16_t port, Request request,
                         std::chrono::milliseconds timeout) {
  asio::io_context io(1);
  request.set(bhttp::field::host, host + ":" + std::to_string(port));
  request.prepare_payload();
  Response response;
  beast::error_code ec;
  asio::co_spawn(io, Exchange(host, port, request, timeout, response, ec), asio::detached);
  io.run();
  if (ec) {
    const std::string where = host + ":" + std::to_string(port);
    if (ec == beast::error::timeout) {
      return Unavailable("no answer from " + where + " within " + std::to_string(timeout.count()) +
                         " ms");
    }
    return Unavailable("cannot reach " + where + ": " + ec.message());
  }
  return response;
}

Request MakeRequest(bhttp::verb method, std::string_view target, std::string_view token,
                    std::string body, std::string_view content_type) {
  Request request{method, target, 11};
  if (!token.empty()) request.set(bhttp::field::authorization, "Bearer " + std::string(token));
  if (!body.empty()) request.set(bhttp::field::content_type, content_type);
  request.body() = std::move(body);
  return request;
}

}  // namespace axon::http
