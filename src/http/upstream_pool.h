// Keep-alive connections from one gateway I/O thread to replicas, and the exchange of one
// request over them, over TCP or over Unix domain sockets (local mode: cheaper than loopback
// TCP). Not thread-safe: each I/O thread owns its pools (thread_local), so the request path
// takes no lock.
//
// A pooled connection keeps its read buffer, and is held by pointer: moving a Beast stream
// allocates a new implementation (with its timer) each time, and a fresh buffer is a 4 KiB
// allocation, both on every request otherwise (bench/callgrind).
//
// Streamed answers: given a BodyWriter, an answer in the chunked transfer coding that has not
// arrived whole with its head is relayed to the writer as it comes: the next bytes are read
// from the replica only once the last ones were written (backpressure), and each wait for more
// is bounded by the timeout again (a stream that makes progress is never cut). When the
// writer's receiver goes away, the connection to the replica is closed, which stops the
// replica's producer.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "http/beast.h"
#include "http/body_writer.h"
#include "http/deadline_stream.h"

namespace axon::http {

struct UpstreamResult {
  Response response;
  beast::error_code error;  // set when no complete response arrived
  // False when the request certainly did not reach the replica (connect failed, or a pooled
  // keep-alive connection turned out closed before any byte of the answer): safe to send
  // elsewhere.
  bool maybe_delivered = false;
  // The answer was relayed to the BodyWriter (`response` holds its head only); `error`, if
  // set, says why it ended early.
  bool streamed = false;
};

template <typename Protocol>
class BasicUpstreamPool {
 public:
  using Endpoint = typename Protocol::endpoint;
  using Stream = DeadlineStream<IoSocket<Protocol>>;

  // Sends `request` to `endpoint` and reads the answer, all within `timeout`. A stale pooled
  // connection is replaced transparently. With a `relay`, a chunked answer that does not come
  // whole in the first read is passed on to it as it arrives (see above).
  asio::awaitable<UpstreamResult> Send(const Endpoint& endpoint, Request& request,
                                       std::chrono::milliseconds timeout,
                                       BodyWriter* relay = nullptr);
  // Drops idle connections to endpoints that are no longer in `live` (replicas that left).
  void Prune(const std::vector<Endpoint>& live);

  size_t idle_connections() const;

 private:
  // One connection to a replica with the buffer its answers are read into (kept between
  // exchanges, emptied before each).
  struct Connection {
    explicit Connection(asio::io_context& io) : stream(io) {}
    Stream stream;
    beast::flat_buffer buffer;
  };
  asio::awaitable<UpstreamResult> Exchange(Connection& connection, Request& request,
                                           std::chrono::milliseconds timeout, bool reused,
                                           BodyWriter* relay);
  // Keeps `connection` for reuse when the replica allows keep-alive.
  void Release(const Endpoint& endpoint, std::unique_ptr<Connection> connection,
               const Response& response);
  // Asio's operator< on a Unix socket endpoint builds two strings for every comparison (an
  // allocation each, on every lookup); its address bytes order it as well.
  struct AddressLess {
    bool operator()(const Endpoint& a, const Endpoint& b) const {
      if constexpr (std::is_same_v<Protocol, local_stream>) {
        const auto bytes = [](const Endpoint& e) {
          return std::string_view(reinterpret_cast<const char*>(e.data()), e.size());
        };
        return bytes(a) < bytes(b);
      } else {
        return a < b;
      }
    }
  };
  static constexpr size_t kMaxIdlePerEndpoint = 512;
  // A pooled connection whose buffer grew past this (a large answer) gives the memory back.
  static constexpr size_t kMaxIdleBuffer = 64 * 1024;
  std::map<Endpoint, std::vector<std::unique_ptr<Connection>>, AddressLess> idle_;
};

using UpstreamPool = BasicUpstreamPool<tcp>;
using LocalUpstreamPool = BasicUpstreamPool<local_stream>;

}  // namespace axon::http
