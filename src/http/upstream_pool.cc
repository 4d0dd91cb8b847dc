#include "http/upstream_pool.h"

#include <algorithm>
#include <limits>

#include "http/wire.h"

namespace axon::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

// What the first read of an answer asks for; a longer answer is read on by bhttp::async_read.
constexpr size_t kFirstRead = 4096;

bool PeerClosedEarly(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof;
}

// Passes a chunked answer on to `relay` as it arrives: what `parser` has of the body, then what
// each further read brings. Each read waits at most `timeout`.
template <typename Stream>
asio::awaitable<void> Relay(Stream& stream, beast::flat_buffer& buffer,
                            bhttp::response_parser<bhttp::string_body>& parser,
                            std::chrono::milliseconds timeout, BodyWriter& relay,
                            UpstreamResult& result) {
  constexpr size_t kRead = 16 * 1024;
  result.streamed = true;
  result.response.base() = parser.get().base();
  relay.Begin(result.response);
  std::string& body = parser.get().body();  // the parser appends; sent pieces are cleared
  for (;;) {
    if (!co_await relay.Write(body)) {  // the client went away: the replica's connection closes
      result.error = asio::error::connection_aborted;
      co_return;
    }
    body.clear();
    if (parser.is_done()) co_return;
    stream.expires_after(timeout);
    const size_t n = co_await stream.async_read_some(buffer.prepare(kRead),
                                                     redirect_error(use_awaitable, result.error));
    buffer.commit(n);
    result.error = TimeoutOr(stream, result.error);
    if (!result.error) ParseBuffered(parser, buffer, result.error);
    if (result.error) {
      relay.Abort();  // the replica failed or stalled: the client sees the answer cut short
      co_return;
    }
  }
}

}  // namespace

template <typename Protocol>
asio::awaitable<UpstreamResult> BasicUpstreamPool<Protocol>::Exchange(
    Connection& connection, Request& request, std::chrono::milliseconds timeout, bool reused,
    BodyWriter* relay) {
  Stream& stream = connection.stream;
  beast::flat_buffer& buffer = connection.buffer;
  buffer.clear();  // bytes a replica sent after its last answer are not part of this one
  UpstreamResult result;
  stream.expires_after(timeout);
  co_await AsyncWriteMessage(stream, request, result.error);
  result.error = TimeoutOr(stream, result.error);
  if (result.error) co_return result;
  result.maybe_delivered = true;
  bhttp::response_parser<bhttp::string_body> parser;
  // Not boost::none: in Beast 1.74 that makes a Content-Length answer whose body arrives in a
  // later read fail with "body limit exceeded".
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // Usually the whole answer comes in one read and is parsed in place.
  const size_t n = co_await stream.async_read_some(buffer.prepare(kFirstRead),
                                                   redirect_error(use_awaitable, result.error));
  buffer.commit(n);
  if (!result.error && !ParseBuffered(parser, buffer, result.error) && !result.error) {
    if (relay != nullptr) {  // a streamed answer is passed on as it comes
      if (!parser.is_header_done()) {
        co_await bhttp::async_read_header(stream, buffer, parser,
                                          redirect_error(use_awaitable, result.error));
      }
      if (!result.error && parser.chunked() && !parser.is_done()) {
        co_await Relay(stream, buffer, parser, timeout, *relay, result);
        co_return result;
      }
    }
    if (!result.error) {
      co_await bhttp::async_read(stream, buffer, parser,
                                 redirect_error(use_awaitable, result.error));
    }
  }
  result.error = TimeoutOr(stream, result.error);
  if (!result.error) {
    result.response = parser.release();
  } else if (reused && PeerClosedEarly(result.error) && !parser.got_some()) {
    // A keep-alive connection the replica had already closed while idle: the request never
    // reached it. On a fresh connection the same symptom may mean the replica read the
    // request and died, so it counts as delivered.
    result.maybe_delivered = false;
  }
  co_return result;
}

template <typename Protocol>
asio::awaitable<UpstreamResult> BasicUpstreamPool<Protocol>::Send(const Endpoint& endpoint,
                                                                  Request& request,
                                                                  std::chrono::milliseconds timeout,
                                                                  BodyWriter* relay) {
  // A pooled connection may have been closed by the replica while idle; if so, the exchange
  // fails before any answer and we go on to a fresh connection.
  for (auto it = idle_.find(endpoint); it != idle_.end() && !it->second.empty();
       it = idle_.find(endpoint)) {
    std::unique_ptr<Connection> connection = std::move(it->second.back());
    it->second.pop_back();
    UpstreamResult result =
        co_await Exchange(*connection, request, timeout, /*reused=*/true, relay);
    if (!result.error) {
      Release(endpoint, std::move(connection), result.response);
      co_return result;
    }
    if (result.maybe_delivered) co_return result;
  }
  auto connection = std::make_unique<Connection>(IoContextOf(co_await asio::this_coro::executor));
  connection->stream.expires_after(timeout);
  UpstreamResult result;
  co_await connection->stream.async_connect(endpoint, redirect_error(use_awaitable, result.error));
  result.error = TimeoutOr(connection->stream, result.error);
  if (result.error) co_return result;
  if constexpr (std::is_same_v<Protocol, tcp>) {
    beast::error_code ignored;
    connection->stream.socket().set_option(tcp::no_delay(true), ignored);
  }
  result = co_await Exchange(*connection, request, timeout, /*reused=*/false, relay);
  if (!result.error) Release(endpoint, std::move(connection), result.response);
  co_return result;
}

template <typename Protocol>
void BasicUpstreamPool<Protocol>::Release(const Endpoint& endpoint,
                                          std::unique_ptr<Connection> connection,
                                          const Response& response) {
  auto& idle = idle_[endpoint];
  if (response.keep_alive() && idle.size() < kMaxIdlePerEndpoint) {
    connection->stream.expires_never();
    if (connection->buffer.capacity() > kMaxIdleBuffer) {
      connection->buffer.clear();
      connection->buffer.shrink_to_fit();
    }
    idle.push_back(std::move(connection));
  }
}

template <typename Protocol>
void BasicUpstreamPool<Protocol>::Prune(const std::vector<Endpoint>& live) {
  std::erase_if(idle_, [&](const auto& entry) {
    return std::find(live.begin(), live.end(), entry.first) == live.end();
  });
}

template <typename Protocol>
size_t BasicUpstreamPool<Protocol>::idle_connections() const {
  size_t n = 0;
  for (const auto& [endpoint, streams] : idle_) n += streams.size();
  return n;
}

template class BasicUpstreamPool<tcp>;
template class BasicUpstreamPool<local_stream>;

}  // namespace axon::http
