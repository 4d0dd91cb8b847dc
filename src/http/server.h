// A multi-threaded HTTP/1.1 server: one io_context per thread. One listening socket (no
// SO_REUSEPORT: no other process can share the port) accepts on the first thread and hands each
// new connection to the threads in turn, so a connection lives and dies on one thread and
// request handling needs no locks. Optionally HTTPS (Beast over OpenSSL) and a Unix domain
// socket beside or instead of TCP.
//
// Limits: request headers larger than max_header_bytes get 431; bodies larger than
// max_body_bytes 413; malformed requests 400. A connection idle between requests for
// idle_timeout is closed; once a request has begun, its headers must arrive within
// header_timeout (a client sending them byte by byte cannot hold a connection) and its body
// within idle_timeout (plain connections keep these deadlines in a DeadlineStream,
// deadline_stream.h; HTTPS ones in Beast's stream). `Expect: 100-continue` is answered. An
// exception from the handler is logged and answered 500; none escapes an I/O thread.
//
// A StreamingHandler may also send its answer in pieces through the BodyWriter it is given
// (body_writer.h): chunked transfer coding, written as it is produced; the connection is kept
// alive afterwards as for any answer. A plain Handler's answers take no other path than before:
// one gathered write each (wire.h).
//
// Threading: Create(), Start() and Wait() from one owning thread; Shutdown() from any thread
// but the server's own I/O threads (it blocks while draining). The handler runs on the I/O
// thread that owns the connection and must not block it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "http/beast.h"
#include "http/body_writer.h"

namespace axon::http {

using Handler = std::function<asio::awaitable<Response>(Request&)>;
using StreamingHandler = std::function<asio::awaitable<Response>(Request&, BodyWriter&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;       // 0 = any free port; see HttpServer::port()
  bool listen_tcp = true;  // false: serve the Unix socket only
  int threads = 1;
  // Also listen on this Unix domain socket ("@name": abstract namespace); empty = TCP only.
  // Its connections are served by the first thread.
  std::string unix_socket;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  uint64_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{75'000};
  // Both set: TCP connections speak TLS (PEM files; the chain may hold intermediates).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class TlsContext;  // tls.h

class HttpServer {
 public:
  // Binds and listens at once (so port() is known before serving). Errors name the address
  // and, for a busy port, the process that holds it.
  static StatusOr<std::unique_ptr<HttpServer>> Create(const ServerOptions& options,
                                                      Handler handler);
  static StatusOr<std::unique_ptr<HttpServer>> Create(const ServerOptions& options,
                                                      StreamingHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  // Starts the I/O threads. Returns at once.
  void Start();
  // Stops accepting, lets requests in flight finish (at most `drain`), then stops the I/O
  // threads. Blocks while draining; idempotent.
  void Shutdown(std::chrono::milliseconds drain);
  // Joins the I/O threads: returns once Shutdown() has run. Owning thread only.
  void Wait();
  // Requests being handled right now, over all threads.
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // The io_context of the first thread, for timers and signals that belong with the server.
  asio::io_context& main_context() { return *workers_.front()->io; }
  // Every I/O thread's io_context (for work that must run on each of them).
  std::vector<asio::io_context*> contexts() const;

 private:
  struct Worker {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<tcp::acceptor> acceptor;                 // first worker only, if TCP
    std::unique_ptr<local_stream::acceptor> local_acceptor;  // first worker only, if any
    std::thread thread;
  };
  HttpServer(ServerOptions options, Handler handler, StreamingHandler streaming_handler);
  static StatusOr<std::unique_ptr<HttpServer>> Finish(std::unique_ptr<HttpServer> server);
  Status Listen();
  Status ListenTcp(Worker& worker, const asio::ip::address& address);
  Status ListenLocal(Worker& worker);
  template <typename Acceptor>
  asio::awaitable<void> Accept(Acceptor& acceptor);
  asio::awaitable<void> ServeTls(tcp::socket socket);
  template <typename Stream>
  asio::awaitable<void> Serve(Stream stream);
  template <typename Stream>
  asio::awaitable<bool> ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::string_body>& parser);
  template <typename Stream>
  asio::awaitable<bool> Reply(Stream& stream, Response response, bool keep_alive, unsigned version);
  template <typename Stream>
  asio::awaitable<void> Close(Stream& stream);
  // `writer`: for the streaming handler (null with a plain one).
  asio::awaitable<Response> CallHandler(Request& request, BodyWriter* writer);

  const ServerOptions options_;
  const Handler handler_;  // one of the two is set
  const StreamingHandler streaming_handler_;
  std::shared_ptr<TlsContext> tls_;  // null without TLS
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace axon::http
