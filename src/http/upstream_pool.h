// Keep-alive connections from one gateway I/O thread to replicas, and the exchange of one
// request over them. Not thread-safe: each I/O thread owns one pool (thread_local), so the
// request path takes no lock.
#pragma once

#include <chrono>
#include <map>
#include <vector>

#include "http/beast.h"

namespace axon::http {

struct UpstreamResult {
  Response response;
  beast::error_code error;  // set when no complete response arrived
  // False when the request certainly did not reach the replica (connect failed, or a pooled
  // keep-alive connection turned out closed before any byte of the answer): safe to send
  // elsewhere.
  bool maybe_delivered = false;
};

class UpstreamPool {
 public:
  // Sends `request` to `endpoint` and reads the answer, all within `timeout`. A stale pooled
  // connection is replaced transparently.
  asio::awaitable<UpstreamResult> Send(const tcp::endpoint& endpoint, Request& request,
                                       std::chrono::milliseconds timeout);
  // Drops idle connections to endpoints that are no longer in `live` (replicas that left).
  void Prune(const std::vector<tcp::endpoint>& live);

  size_t idle_connections() const;

 private:
  asio::awaitable<UpstreamResult> Exchange(beast::tcp_stream& stream, Request& request,
                                           std::chrono::milliseconds timeout, bool reused);
  // Keeps `stream` for reuse when the replica allows keep-alive.
  void Release(const tcp::endpoint& endpoint, beast::tcp_stream stream, const Response& response);
  static constexpr size_t kMaxIdlePerEndpoint = 512;
  std::map<tcp::endpoint, std::vector<beast::tcp_stream>> idle_;
};

}  // namespace axon::http
