// One HTTP/1.1 connection to a Kubernetes API server, TLS or plain, with an io_context of its
// own that the calling thread drives while a call runs: a call blocks only its caller, and
// many connections run at once on as many threads without sharing anything.
//
// Threading: one thread at a time uses a Connection (the Client hands each call its own);
// Cancel() may be called from any thread while another uses it. Every operation has a
// deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "common/status.h"
#include "http/beast.h"
#include "kube/credentials.h"

namespace axon::kube {

namespace ssl = boost::asio::ssl;
using Millis = std::chrono::milliseconds;

class Connection {
 public:
  // Connects (and for TLS, handshakes, verifying the server's name when `tls` verifies peers).
  // `tls` must outlive the connection; null for plain HTTP.
  static StatusOr<std::unique_ptr<Connection>> Open(const ServerAddress& server, ssl::context* tls,
                                                    Millis timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Writes `request` and reads the whole response. When it fails and `*nothing_back` is set,
  // no byte of a response arrived (a pooled connection the server had closed, say).
  StatusOr<http::Response> RoundTrip(const http::Request& request, Millis timeout,
                                     bool* nothing_back);

  // Writes `request` and reads the response's header (status and headers). The body then
  // comes piece by piece from ReadBody().
  StatusOr<unsigned> StartStream(const http::Request& request, Millis timeout);
  // Waits up to `idle_timeout` for more of the body and appends what arrived to `*out`.
  // Returns false once the body is complete (chunked framing is removed).
  StatusOr<bool> ReadBody(std::string* out, Millis idle_timeout);

  // Whether another request may follow on this connection.
  bool reusable() const { return reusable_; }
  // Closes the socket, making the running or next operation fail. Any thread.
  void Cancel();

 private:
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  explicit Connection(std::string peer);
  boost::beast::tcp_stream& Lowest();
  // Runs the async operation `start` (which takes a completion handler) on io_ until it
  // completes or `timeout` passes.
  template <typename Start>
  boost::system::error_code Drive(Millis timeout, Start&& start);
  // Drive() for `op(stream, handler)` on whichever stream this connection has.
  template <typename Op>
  boost::system::error_code Run(Millis timeout, Op&& op);
  Status Failure(const std::string& what, const boost::system::error_code& ec) const;

  const std::string peer_;  // host:port, for messages
  http::asio::io_context io_;
  std::variant<std::monostate, boost::beast::tcp_stream, TlsStream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::bhttp::response_parser<http::bhttp::buffer_body>> stream_parser_;
  bool reusable_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace axon::kube
