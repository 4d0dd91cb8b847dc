#include "kube/connection.h"

#include <openssl/ssl.h>

#include <limits>
#include <type_traits>

namespace axon::kube {
namespace {

namespace asio = http::asio;
namespace beast = boost::beast;
namespace bhttp = http::bhttp;
using boost::system::error_code;

// Responses larger than this are refused (a list of every pod in a big cluster stays well
// under it).
constexpr uint64_t kMaxBodyBytes = 512ull << 20;
constexpr size_t kStreamChunk = 16 * 1024;

bool IsIpAddress(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Connection::Connection(std::string peer) : peer_(std::move(peer)) {}
Connection::~Connection() = default;

beast::tcp_stream& Connection::Lowest() {
  if (auto* tls = std::get_if<TlsStream>(&stream_)) return beast::get_lowest_layer(*tls);
  return std::get<beast::tcp_stream>(stream_);
}

template <typename Start>
error_code Connection::Drive(Millis timeout, Start&& start) {
  if (cancelled_.load()) return asio::error::operation_aborted;
  error_code result;
  bool done = false;
  Lowest().expires_after(timeout);
  start([&result, &done](error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  io_.restart();
  while (!done) {
    if (io_.run_one() == 0) return asio::error::interrupted;
  }
  if (cancelled_.load() && result) return asio::error::operation_aborted;
  return result;
}

template <typename Op>
error_code Connection::Run(Millis timeout, Op&& op) {
  return Drive(timeout, [&](auto handler) {
    std::visit(
        [&](auto& s) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) op(s, handler);
        },
        stream_);
  });
}

Status Connection::Failure(const std::string& what, const error_code& ec) const {
  std::string reason = ec.message();
  if (ec == beast::error::timeout) reason = "timed out";
  if (ec == asio::error::operation_aborted) reason = "cancelled";
  return Unavailable(what + " " + peer_ + ": " + reason);
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const ServerAddress& server,
                                                       ssl::context* tls, Millis timeout) {
  std::unique_ptr<Connection> c(new Connection(server.host + ":" + std::to_string(server.port)));
  error_code ec;
  http::tcp::resolver resolver(c->io_);
  auto endpoints = resolver.resolve(server.host, std::to_string(server.port), ec);
  if (ec) return c->Failure("cannot resolve", ec);
  if (tls != nullptr) {
    c->stream_.emplace<TlsStream>(c->io_, *tls);
  } else {
    c->stream_.emplace<beast::tcp_stream>(c->io_);
  }
  ec = c->Drive(timeout, [&](auto handler) { c->Lowest().async_connect(endpoints, handler); });
  if (ec) return c->Failure("cannot connect to", ec);
  if (tls != nullptr) {
    auto& stream = std::get<TlsStream>(c->stream_);
    if (!IsIpAddress(server.host))
      SSL_set_tlsext_host_name(stream.native_handle(), server.host.c_str());
    if (SSL_CTX_get_verify_mode(tls->native_handle()) & SSL_VERIFY_PEER) {
      stream.set_verify_callback(ssl::host_name_verification(server.host));
    }
    ec = c->Drive(timeout,
                  [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
    if (ec) return c->Failure("TLS handshake failed with", ec);
  }
  return c;
}

StatusOr<http::Response> Connection::RoundTrip(const http::Request& request, Millis timeout,
                                               bool* nothing_back) {
  *nothing_back = true;
  reusable_ = false;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  error_code ec =
      Run(timeout, [&](auto& s, auto handler) { bhttp::async_write(s, request, handler); });
  if (ec) return Failure("cannot send to", ec);
  ec = Run(timeout, [&](auto& s, auto handler) { bhttp::async_read(s, buffer_, parser, handler); });
  if (ec) {
    *nothing_back = !parser.got_some();
    return Failure("no answer from", ec);
  }
  *nothing_back = false;
  reusable_ = parser.keep_alive();
  return parser.release();
}

StatusOr<unsigned> Connection::StartStream(const http::Request& request, Millis timeout) {
  reusable_ = false;
  stream_parser_.emplace();
  // Unlimited, but not boost::none: Boost 1.74 compares a Content-Length against a disabled
  // limit as if it were exceeded.
  stream_parser_->body_limit(std::numeric_limits<uint64_t>::max());
  error_code ec =
      Run(timeout, [&](auto& s, auto handler) { bhttp::async_write(s, request, handler); });
  if (ec) return Failure("cannot send to", ec);
  ec = Run(timeout, [&](auto& s, auto handler) {
    bhttp::async_read_header(s, buffer_, *stream_parser_, handler);
  });
  if (ec) return Failure("no answer from", ec);
  return stream_parser_->get().result_int();
}

StatusOr<bool> Connection::ReadBody(std::string* out, Millis idle_timeout) {
  if (!stream_parser_) return Internal("ReadBody() without StartStream()");
  auto& parser = *stream_parser_;
  if (parser.is_done()) return false;
  char chunk[kStreamChunk];
  parser.get().body().data = chunk;
  parser.get().body().size = sizeof(chunk);
  error_code ec = Run(idle_timeout, [&](auto& s, auto handler) {
    bhttp::async_read_some(s, buffer_, parser, handler);
  });
  out->append(chunk, sizeof(chunk) - parser.get().body().size);
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) return Failure("stream broken from", ec);
  return !parser.is_done();
}

void Connection::Cancel() {
  cancelled_.store(true);
  asio::post(io_, [this] {
    error_code ignored;
    if (!std::holds_alternative<std::monostate>(stream_)) Lowest().socket().close(ignored);
  });
}

}  // namespace axon::kube
