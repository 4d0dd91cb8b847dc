// A multi-threaded HTTP/1.1 server: one io_context per thread, each with its own acceptor on a
// shared port (SO_REUSEPORT), so a connection lives and dies on one thread and request
// handling needs no locks. Keep-alive, body size limit (413), malformed requests (400).
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

namespace axon::http {

using Handler = std::function<asio::awaitable<Response>(Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port; see HttpServer::port()
  int threads = 1;
  // Also listen on this Unix domain socket ("@name": abstract namespace); empty = TCP only.
  // Its connections are served by the first thread.
  std::string unix_socket;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::seconds idle_timeout{75};  // a keep-alive connection idle this long is closed
};

class HttpServer {
 public:
  // Binds and listens at once (so port() is known before serving); errors name the address.
  static StatusOr<std::unique_ptr<HttpServer>> Create(const ServerOptions& options,
                                                      Handler handler);
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

 private:
  struct Worker {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<local_stream::acceptor> local_acceptor;  // first worker only, if any
    std::thread thread;
  };
  HttpServer(ServerOptions options, Handler handler);
  Status Listen();
  Status ListenLocal(Worker& worker);
  template <typename Acceptor>
  asio::awaitable<void> Accept(Acceptor& acceptor, asio::io_context& io);
  template <typename Stream>
  asio::awaitable<void> Serve(Stream stream);
  template <typename Stream>
  asio::awaitable<bool> Reply(Stream& stream, Response response, bool keep_alive, unsigned version);

  const ServerOptions options_;
  const Handler handler_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace axon::http
