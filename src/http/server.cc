#include "http/server.h"

#include <spdlog/spdlog.h>

#include "http/responses.h"

namespace axon::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

// Counts a request as in flight for as long as it is being handled.
struct InFlightGuard {
  explicit InFlightGuard(std::atomic<int64_t>& c) : counter(c) { counter.fetch_add(1); }
  ~InFlightGuard() { counter.fetch_sub(1); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  std::atomic<int64_t>& counter;
};

}  // namespace

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  Shutdown(std::chrono::milliseconds(0));
  Wait();
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerOptions& options,
                                                         Handler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
  if (Status s = server->Listen(); !s.ok()) return s;
  return server;
}

Status HttpServer::Listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgument("bad listen address '" + options_.host + "': " + ec.message());
  uint16_t port = options_.port;
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    auto worker = std::make_unique<Worker>();
    worker->io = std::make_unique<asio::io_context>(1);
    worker->acceptor = std::make_unique<tcp::acceptor>(*worker->io);
    auto& acceptor = *worker->acceptor;
    const tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      const int one = 1;
      ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
      acceptor.bind(endpoint, ec);
    }
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(port) + ": " +
                         ec.message());
    }
    port = acceptor.local_endpoint().port();
    workers_.push_back(std::move(worker));
  }
  port_ = port;
  return options_.unix_socket.empty() ? OkStatus() : ListenLocal(*workers_.front());
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

namespace {

// Keeps a timer that always expires within kAnchorPeriod on the thread's io_context. Asio
// reprograms the kernel timer (timerfd_settime) only when a new timer becomes the earliest
// one; with the anchor in place, per-request stream deadlines (seconds away) never are, which
// saves two system calls per request and direction.
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

}  // namespace

void HttpServer::Start() {
  for (auto& w : workers_) {
    asio::co_spawn(*w->io, AnchorTimers(), asio::detached);
    asio::co_spawn(*w->io, Accept(*w->acceptor, *w->io), asio::detached);
    if (w->local_acceptor) {
      asio::co_spawn(*w->io, Accept(*w->local_acceptor, *w->io), asio::detached);
    }
    w->thread = std::thread([io = w->io.get()] {
      auto guard = asio::make_work_guard(*io);
      io->run();
    });
  }
}

template <typename Acceptor>
asio::awaitable<void> HttpServer::Accept(Acceptor& acceptor, asio::io_context& io) {
  using Protocol = typename Acceptor::protocol_type;
  for (;;) {
    beast::error_code ec;
    auto socket = co_await acceptor.async_accept(redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) co_return;
      continue;  // e.g. EMFILE: keep serving existing connections
    }
    if constexpr (std::is_same_v<Protocol, tcp>) socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io, Serve(beast::basic_stream<Protocol>(std::move(socket))), asio::detached);
  }
}

template <typename Stream>
asio::awaitable<void> HttpServer::Serve(Stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    stream.expires_after(options_.idle_timeout);
    beast::error_code ec;
    co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::body_limit) {
      co_await Reply(stream,
                     JsonError(413, "request body exceeds the limit of " +
                                        std::to_string(options_.max_body_bytes) + " bytes"),
                     false, 11);
      co_return;
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      co_return;
    }
    if (ec) {
      co_await Reply(stream, JsonError(400, "malformed HTTP request: " + ec.message()), false, 11);
      co_return;
    }
    Request request = parser.release();
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    stream.expires_never();
    Response response;
    {
      InFlightGuard guard(in_flight_);
      response = co_await handler_(request);
    }
    if (!co_await Reply(stream, std::move(response), keep_alive && !draining_, version)) {
      co_return;
    }
  }
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Reply(Stream& stream, Response response, bool keep_alive,
                                        unsigned version) {
  response.version(version);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  stream.expires_after(options_.idle_timeout);
  beast::error_code ec;
  co_await bhttp::async_write(stream, response, redirect_error(use_awaitable, ec));
  if (ec || !keep_alive) {
    stream.socket().shutdown(Stream::socket_type::shutdown_send, ec);
    co_return false;
  }
  co_return true;
}

void HttpServer::Shutdown(std::chrono::milliseconds drain) {
  if (stopped_.exchange(true)) return;
  draining_ = true;
  for (auto& w : workers_) {
    asio::post(*w->io, [w = w.get()] {
      beast::error_code ec;
      w->acceptor->close(ec);
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
