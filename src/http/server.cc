#include "http/server.h"

#include <span>

#include <spdlog/spdlog.h>

#include "common/port_owner.h"
#include "http/deadline_stream.h"
#include "http/responses.h"
#include "http/tls.h"
#include "http/wire.h"

namespace axon::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

constexpr size_t kFirstRead = 4096;

// Counts a request as in flight for as long as it is being handled.
struct InFlightGuard {
  explicit InFlightGuard(std::atomic<int64_t>& c) : counter(c) { counter.fetch_add(1); }
  ~InFlightGuard() { counter.fetch_sub(1); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  std::atomic<int64_t>& counter;
};

// Keeps a timer that always expires within kAnchorPeriod on the thread's io_context. Asio
// reprograms the kernel timer (timerfd_settime) only when a new timer becomes the earliest
// one; with the anchor in place, the timers armed per request (the Watchdog's when its earliest
// deadline moves, a queued request's wait), seconds away, never are, which saves two system calls
// each.
asio::awaitable<void> AnchorTimers() {
  constexpr auto kAnchorPeriod = std::chrono::milliseconds(250);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(kAnchorPeriod);
    beast::error_code ec;
    co_await timer.async_wait(redirect_error(use_awaitable, ec));
    if (ec) co_return;
  }
}

// The BodyWriter of one streamed answer on `Stream`: the head is sent with the first piece; each
// piece is one chunk in one gathered write (an HTTP/1.0 client gets the bytes alone, and the
// connection closes at the end).
template <typename Stream>
class StreamBodyWriter final : public BodyWriter {
 public:
  StreamBodyWriter(Stream& stream, std::chrono::milliseconds idle_timeout, unsigned version,
                   bool keep_alive)
      : stream_(stream),
        idle_timeout_(idle_timeout),
        version_(version),
        keep_alive_(keep_alive && version >= 11) {}

  void Begin(Response head) override {
    head.version(version_);
    head.erase(bhttp::field::content_length);
    head.erase(bhttp::field::transfer_encoding);
    if (version_ >= 11) head.set(bhttp::field::transfer_encoding, "chunked");
    head.keep_alive(keep_alive_);
    AppendHead(head, head_);
    began_ = true;
  }

  asio::awaitable<bool> Write(std::string_view piece) override {
    if (failed_ || !began_) co_return false;
    if (piece.empty()) co_return true;
    co_return co_await Send(piece, /*last=*/false);
  }

  void Abort() override { failed_ = true; }
  bool began() const override { return began_; }

  // Ends the body after the handler returned. True when the connection may serve another
  // request.
  asio::awaitable<bool> End() {
    if (failed_) co_return false;
    co_return co_await Send({}, /*last=*/true) && keep_alive_;
  }

 private:
  asio::awaitable<bool> Send(std::string_view piece, bool last) {
    const bool chunked = version_ >= 11;
    const ChunkSizeLine size(piece.size());
    std::array<asio::const_buffer, 4> buffers{asio::buffer(head_.data(), head_.size())};
    size_t count = 1;
    if (!piece.empty()) {
      if (chunked) buffers[count++] = asio::buffer(size.view().data(), size.view().size());
      buffers[count++] = asio::buffer(piece.data(), piece.size());
      if (chunked) buffers[count++] = asio::buffer(kChunkEnd.data(), kChunkEnd.size());
    } else if (last && chunked) {
      buffers[count++] = asio::buffer(kLastChunk.data(), kLastChunk.size());
    }
    beast::get_lowest_layer(stream_).expires_after(idle_timeout_);
    beast::error_code ec;
    co_await asio::async_write(stream_, std::span(buffers.data(), count),
                               redirect_error(use_awaitable, ec));
    head_.clear();
    if (ec) failed_ = true;
    co_return !ec;
  }

  Stream& stream_;
  const std::chrono::milliseconds idle_timeout_;
  const unsigned version_;
  const bool keep_alive_;
  HeadBuffer head_;  // not yet sent
  bool began_ = false;
  bool failed_ = false;
};

void RunLoggingExceptions(asio::io_context& io) {
  auto guard = asio::make_work_guard(io);
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("I/O thread: unhandled exception: {}", e.what());
    }
  }
}

}  // namespace

HttpServer::HttpServer(ServerOptions options, Handler handler, StreamingHandler streaming_handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      streaming_handler_(std::move(streaming_handler)) {}

HttpServer::~HttpServer() {
  Shutdown(std::chrono::milliseconds(0));
  Wait();
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerOptions& options,
                                                         Handler handler) {
  return Finish(std::unique_ptr<HttpServer>(new HttpServer(options, std::move(handler), {})));
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerOptions& options,
                                                         StreamingHandler handler) {
  return Finish(std::unique_ptr<HttpServer>(new HttpServer(options, {}, std::move(handler))));
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Finish(std::unique_ptr<HttpServer> server) {
  const ServerOptions& options = server->options_;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidArgument("TLS needs both a certificate and a key file");
    }
    auto tls = TlsContext::ForServer(options.tls_cert_file, options.tls_key_file);
    if (!tls.ok()) return tls.status();
    server->tls_ = *tls;
  }
  if (Status s = server->Listen(); !s.ok()) return s;
  return server;
}

Status HttpServer::ListenTcp(Worker& worker, const asio::ip::address& address) {
  worker.acceptor = std::make_unique<tcp::acceptor>(*worker.io);
  auto& acceptor = *worker.acceptor;
  const tcp::endpoint endpoint(address, options_.port);
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only lets a restarted server bind past connections in TIME_WAIT; it does not
  // let two listeners share the port.
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use) {
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       ": the port is in use by " + DescribePortOwner(options_.port));
  }
  if (ec) {
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + ec.message());
  }
  port_ = acceptor.local_endpoint().port();
  return OkStatus();
}

Status HttpServer::Listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgument("bad listen address '" + options_.host + "': " + ec.message());
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    auto worker = std::make_unique<Worker>();
    worker->io = std::make_unique<asio::io_context>(1);
    workers_.push_back(std::move(worker));
  }
  if (options_.listen_tcp) {
    if (Status s = ListenTcp(*workers_.front(), address); !s.ok()) return s;
  }
  if (options_.unix_socket.empty()) {
    return options_.listen_tcp ? OkStatus() : InvalidArgument("a server needs TCP or a socket");
  }
  return ListenLocal(*workers_.front());
}

Status HttpServer::ListenLocal(Worker& worker) {
  const auto endpoint = LocalEndpoint(options_.unix_socket);
  if (options_.unix_socket.front() != '@') ::unlink(options_.unix_socket.c_str());
  beast::error_code ec;
  worker.local_acceptor = std::make_unique<local_stream::acceptor>(*worker.io);
  worker.local_acceptor->open(endpoint.protocol(), ec);
  if (!ec) worker.local_acceptor->bind(endpoint, ec);
  if (!ec) worker.local_acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on unix socket " + options_.unix_socket + ": " +
                       ec.message());
  }
  return OkStatus();
}

std::vector<asio::io_context*> HttpServer::contexts() const {
  std::vector<asio::io_context*> out;
  for (const auto& w : workers_) out.push_back(w->io.get());
  return out;
}

void HttpServer::Start() {
  for (auto& w : workers_) {
    asio::co_spawn(*w->io, AnchorTimers(), asio::detached);
    if (w->acceptor) asio::co_spawn(*w->io, Accept(*w->acceptor), asio::detached);
    if (w->local_acceptor) asio::co_spawn(*w->io, Accept(*w->local_acceptor), asio::detached);
    w->thread = std::thread([io = w->io.get()] { RunLoggingExceptions(*io); });
  }
}

// Accepts on the first thread; each connection goes to the next thread in turn and stays there.
template <typename Acceptor>
asio::awaitable<void> HttpServer::Accept(Acceptor& acceptor) {
  using Protocol = typename Acceptor::protocol_type;
  for (size_t next = 0;; ++next) {
    asio::io_context& io = *workers_[next % workers_.size()]->io;
    beast::error_code ec;
    auto socket = co_await acceptor.async_accept(io, redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) co_return;
      // e.g. EMFILE: keep serving existing connections, and try again shortly (not in a spin).
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    if constexpr (std::is_same_v<Protocol, tcp>) {
      socket.set_option(tcp::no_delay(true), ec);
      if (tls_) {
        asio::co_spawn(io, ServeTls(std::move(socket)), asio::detached);
        continue;
      }
    }
    asio::co_spawn(io, Serve(DeadlineStream<IoSocket<Protocol>>(std::move(socket))),
                   asio::detached);
  }
}

asio::awaitable<void> HttpServer::ServeTls(tcp::socket socket) {
  TlsStream stream(beast::tcp_stream(std::move(socket)), tls_->native());
  beast::get_lowest_layer(stream).expires_after(options_.header_timeout);
  beast::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  redirect_error(use_awaitable, ec));
  if (ec) co_return;  // not TLS, or too slow: nothing to answer
  co_await Serve(std::move(stream));
}

template <typename Stream>
asio::awaitable<bool> HttpServer::ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                              bhttp::request_parser<bhttp::string_body>& parser) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  if (buffer.size() == 0) {  // between requests: wait for the next one with the idle timeout
    lowest.expires_after(options_.idle_timeout);
    const size_t n = co_await stream.async_read_some(buffer.prepare(kFirstRead),
                                                     redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    buffer.commit(n);
  }
  if (ParseBuffered(parser, buffer, ec)) co_return true;  // one read brought it all
  if (!ec) {
    lowest.expires_after(options_.header_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
  }
  if (!ec && !parser.is_done()) {
    if (parser.get()[bhttp::field::expect] == "100-continue") {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
      co_await bhttp::async_write(stream, go_on, redirect_error(use_awaitable, ec));
    }
    lowest.expires_after(options_.idle_timeout);
    if (!ec) co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  }
  ec = TimeoutOr(lowest, ec);
  if (!ec) co_return true;
  Response error;
  if (ec == bhttp::error::body_limit) {
    error = JsonError(413, "request body exceeds the limit of " +
                               std::to_string(options_.max_body_bytes) + " bytes");
  } else if (ec == bhttp::error::header_limit) {
    error = JsonError(431, "request headers exceed the limit of " +
                               std::to_string(options_.max_header_bytes) + " bytes");
  } else if (ec == beast::error::timeout && parser.got_some()) {
    error = JsonError(408, "the request was not received in time (headers within " +
                               std::to_string(options_.header_timeout.count()) + " ms)");
  } else if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
             ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
             ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    co_return false;  // the client went away or stayed silent: nothing to answer
  } else {
    error = JsonError(400, "malformed HTTP request: " + ec.message());
  }
  co_await Reply(stream, std::move(error), false, 11);
  co_return false;
}

asio::awaitable<Response> HttpServer::CallHandler(Request& request, BodyWriter* writer) {
  InFlightGuard guard(in_flight_);
  try {
    if (writer == nullptr) co_return co_await handler_(request);
    co_return co_await streaming_handler_(request, *writer);
  } catch (const std::exception& e) {
    spdlog::error("handler failed on {} {}: {}", std::string(request.method_string()),
                  std::string(request.target()), e.what());
  }
  if (writer != nullptr && writer->began()) writer->Abort();  // too late for an answer
  co_return JsonError(500, "internal error");
}

template <typename Stream>
asio::awaitable<void> HttpServer::Serve(Stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<uint64_t>(options_.max_header_bytes, UINT32_MAX)));
    parser.body_limit(options_.max_body_bytes);
    if (!co_await ReadRequest(stream, buffer, parser)) break;
    Request request = parser.release();
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    beast::get_lowest_layer(stream).expires_never();
    Response response;
    if (streaming_handler_) {
      StreamBodyWriter<Stream> writer(stream, options_.idle_timeout, version,
                                      keep_alive && !draining_);
      response = co_await CallHandler(request, &writer);
      if (writer.began()) {
        if (!co_await writer.End()) break;
        continue;
      }
    } else {
      response = co_await CallHandler(request, nullptr);
    }
    if (!co_await Reply(stream, std::move(response), keep_alive && !draining_, version)) break;
  }
  co_await Close(stream);
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Reply(Stream& stream, Response response, bool keep_alive,
                                        unsigned version) {
  response.version(version);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
  beast::error_code ec;
  co_await AsyncWriteMessage(stream, response, ec);
  co_return !ec && keep_alive;
}

template <typename Stream>
asio::awaitable<void> HttpServer::Close(Stream& stream) {
  beast::error_code ec;
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(redirect_error(use_awaitable, ec));
  } else {
    stream.socket().shutdown(Stream::socket_type::shutdown_send, ec);
  }
}

void HttpServer::Shutdown(std::chrono::milliseconds drain) {
  if (stopped_.exchange(true)) return;
  draining_ = true;
  for (auto& w : workers_) {
    asio::post(*w->io, [w = w.get()] {
      beast::error_code ec;
      if (w->acceptor) w->acceptor->close(ec);
      if (w->local_acceptor) w->local_acceptor->close(ec);
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& w : workers_) w->io->stop();
}

void HttpServer::Wait() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace axon::http
