#include "http/client.h"

#include <cstdint>
#include <limits>

#include "http/tls.h"

namespace axon::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

template <typename Stream>
asio::awaitable<void> WriteAndRead(Stream& stream, Request& request, Response& response,
                                   beast::error_code& ec) {
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
}

asio::awaitable<void> ExchangeTcp(const Peer& peer, TlsContext* tls, Request& request,
                                  std::chrono::milliseconds timeout, Response& response,
                                  beast::error_code& ec) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(peer.host, std::to_string(peer.port),
                                                   redirect_error(use_awaitable, ec));
  if (ec) co_return;
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(timeout);
  co_await tcp_stream.async_connect(endpoints, redirect_error(use_awaitable, ec));
  if (ec) co_return;
  if (tls == nullptr) {
    co_await WriteAndRead(tcp_stream, request, response, ec);
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return;
  }
  TlsStream stream(std::move(tcp_stream), tls->native());
  stream.set_verify_callback(asio::ssl::host_name_verification(peer.host));
  beast::error_code ip_ec;
  asio::ip::make_address(peer.host, ip_ec);
  if (ip_ec) SSL_set_tlsext_host_name(stream.native_handle(), peer.host.c_str());  // SNI
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  redirect_error(use_awaitable, ec));
  if (ec) co_return;
  co_await WriteAndRead(stream, request, response, ec);
  beast::error_code ignored;
  co_await stream.async_shutdown(redirect_error(use_awaitable, ignored));
}

asio::awaitable<void> ExchangeLocal(const Peer& peer, Request& request,
                                    std::chrono::milliseconds timeout, Response& response,
                                    beast::error_code& ec) {
  beast::basic_stream<local_stream> stream(co_await asio::this_coro::executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(LocalEndpoint(peer.unix_socket), redirect_error(use_awaitable, ec));
  if (ec) co_return;
  co_await WriteAndRead(stream, request, response, ec);
  beast::error_code ignored;
  stream.socket().shutdown(local_stream::socket::shutdown_both, ignored);
}

}  // namespace

std::string Peer::Describe() const {
  if (!unix_socket.empty()) return unix_socket;
  return (tls ? "https://" : "") + host + ":" + std::to_string(port);
}

StatusOr<Peer> PeerFromListenAddress(const std::string& address) {
  Peer peer;
  if (address.empty()) return InvalidArgument("empty listen address");
  if (address.front() == '@' || address.front() == '/') {
    peer.unix_socket = address;
    return peer;
  }
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("listen address " + address + " is not @name, /path or host:port");
  }
  peer.host = address.substr(0, colon);
  if (peer.host.size() > 2 && peer.host.front() == '[') {
    peer.host = peer.host.substr(1, peer.host.size() - 2);
  }
  try {
    const int port = std::stoi(address.substr(colon + 1));
    if (port < 1 || port > 65535) throw std::out_of_range("port");
    peer.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return InvalidArgument("listen address " + address + " has no valid port");
  }
  return peer;
}

StatusOr<Response> Fetch(const Peer& peer, Request request, std::chrono::milliseconds timeout) {
  std::shared_ptr<TlsContext> tls;
  if (peer.tls && peer.unix_socket.empty()) {
    auto context = TlsContext::ForClient(peer.ca_file);
    if (!context.ok()) return context.status();
    tls = *context;
  }
  asio::io_context io(1);
  request.set(bhttp::field::host, peer.unix_socket.empty()
                                      ? peer.host + ":" + std::to_string(peer.port)
                                      : std::string("localhost"));
  request.prepare_payload();
  Response response;
  beast::error_code ec;
  if (peer.unix_socket.empty()) {
    asio::co_spawn(io, ExchangeTcp(peer, tls.get(), request, timeout, response, ec),
                   asio::detached);
  } else {
    asio::co_spawn(io, ExchangeLocal(peer, request, timeout, response, ec), asio::detached);
  }
  io.run();
  if (ec) {
    const std::string where = peer.Describe();
    if (ec == beast::error::timeout) {
      return Unavailable("no answer from " + where + " within " + std::to_string(timeout.count()) +
                         " ms");
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      return Unavailable("TLS with " + where + " failed: " + ec.message() +
                         " (is its certificate signed by the CA you gave, and for this name?)");
    }
    return Unavailable("cannot reach " + where + ": " + ec.message());
  }
  return response;
}

StatusOr<Response> Fetch(const std::string& host, uint16_t port, Request request,
                         std::chrono::milliseconds timeout) {
  return Fetch(Peer{.host = host, .port = port}, std::move(request), timeout);
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
