// Streamed answers: chunk framing, the server's BodyWriter on the wire, the upstream pool's
// relay (backpressure, a receiver that goes away), and the event stream format.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "http/body_writer.h"
#include "http/client.h"
#include "http/responses.h"
#include "http/server.h"
#include "http/sse.h"
#include "http/upstream_pool.h"
#include "http/wire.h"

namespace axon::http {
namespace {

using namespace std::chrono_literals;

TEST(ChunkSizeLineTest, IsHexWithoutLeadingZeros) {
  EXPECT_EQ(ChunkSizeLine(0).view(), "0\r\n");
  EXPECT_EQ(ChunkSizeLine(1).view(), "1\r\n");
  EXPECT_EQ(ChunkSizeLine(255).view(), "ff\r\n");
  EXPECT_EQ(ChunkSizeLine(4096).view(), "1000\r\n");
  EXPECT_EQ(ChunkSizeLine(SIZE_MAX).view(), "ffffffffffffffff\r\n");
}

// Waits on the calling I/O thread, polling, until `flag` is set or `limit` passes.
asio::awaitable<bool> WaitFor(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!flag.load() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(2ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return flag.load();
}

// A server whose POST /stream answers in pieces (see each test), and answers anything else
// whole.
std::unique_ptr<HttpServer> StartStreamingServer(StreamingHandler handler) {
  auto server = HttpServer::Create({.threads = 1}, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().message();
  (*server)->Start();
  return std::move(server).value();
}

// Everything the server sends on one connection for `raw_request`, until it closes.
std::string RawExchange(uint16_t port, std::string_view raw_request) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(raw_request));
  std::string out;
  beast::error_code ec;
  char buffer[4096];
  for (;;) {
    const size_t n = socket.read_some(asio::buffer(buffer), ec);
    if (ec) break;
    out.append(buffer, n);
  }
  return out;
}

asio::awaitable<Response> TwoPieces(Request& request, BodyWriter& writer) {
  if (request.target() != "/stream") co_return TextResponse(200, "whole", "text/plain");
  writer.Begin(TextResponse(200, "ignored", "text/plain"));
  EXPECT_TRUE(co_await writer.Write("a"));
  EXPECT_TRUE(co_await writer.Write(""));  // sends nothing
  EXPECT_TRUE(co_await writer.Write("bc"));
  co_return TextResponse(500, "not sent", "text/plain");
}

TEST(StreamingServerTest, WritesChunksThenKeepsTheConnection) {
  auto server = StartStreamingServer(TwoPieces);
  const std::string bytes =
      RawExchange(server->port(),
                  "POST /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(bytes,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            "Content-Length: 5\r\n\r\nwhole");
}

TEST(StreamingServerTest, Http10GetsTheBytesAndAClose) {
  auto server = StartStreamingServer(TwoPieces);
  const std::string bytes = RawExchange(server->port(), "POST /stream HTTP/1.0\r\n\r\n");
  EXPECT_EQ(bytes, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nabc");
}

TEST(StreamingServerTest, AbortClosesWithoutTheLastChunk) {
  auto server = StartStreamingServer([](Request&, BodyWriter& writer) -> asio::awaitable<Response> {
    writer.Begin(TextResponse(200, "", "text/plain"));
    co_await writer.Write("part");
    writer.Abort();
    EXPECT_FALSE(co_await writer.Write("more"));
    co_return Response();
  });
  const std::string bytes = RawExchange(server->port(), "POST /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(bytes,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            "4\r\npart\r\n");
}

TEST(StreamingServerTest, AnExceptionAfterBeginCutsTheAnswerShort) {
  auto server = StartStreamingServer([](Request&, BodyWriter& writer) -> asio::awaitable<Response> {
    writer.Begin(TextResponse(200, "", "text/plain"));
    co_await writer.Write("x");
    throw std::runtime_error("boom");
  });
  const std::string bytes = RawExchange(server->port(), "POST /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(bytes.ends_with("1\r\nx\r\n")) << bytes;
  EXPECT_EQ(bytes.find("internal error"), std::string::npos);
}

// What a relayed stream delivered, as the gateway's client side would see it.
class CollectingWriter final : public BodyWriter {
 public:
  void Begin(Response head) override {
    head_ = std::move(head);
    began_ = true;
  }
  asio::awaitable<bool> Write(std::string_view piece) override {
    pieces.emplace_back(piece);
    got_first = true;
    co_return pieces.size() < accept_pieces;
  }
  void Abort() override { aborted = true; }
  bool began() const override { return began_; }
  const Response& head() const { return head_; }

  std::vector<std::string> pieces;
  std::atomic<bool> got_first{false};
  size_t accept_pieces = SIZE_MAX;  // Write() says the receiver is gone after this many
  bool aborted = false;

 private:
  Response head_;
  bool began_ = false;
};

// The upstream sends its second piece only once the relay has passed the first one on: a pool
// that waited for the whole answer would get "late" instead.
TEST(UpstreamRelayTest, PassesPiecesOnAsTheyCome) {
  CollectingWriter relay;
  auto server =
      StartStreamingServer([&relay](Request&, BodyWriter& writer) -> asio::awaitable<Response> {
        Response head = TextResponse(200, "", "text/event-stream");
        head.set("X-From", "replica");
        writer.Begin(std::move(head));
        co_await writer.Write("first;");
        const bool relayed = co_await WaitFor(relay.got_first, 5000ms);
        co_await writer.Write(relayed ? "second" : "late");
        co_return Response();
      });
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request request = MakeRequest(bhttp::verb::post, "/stream", "", "{}");
        request.prepare_payload();
        result = co_await pool.Send({asio::ip::make_address("127.0.0.1"), server->port()}, request,
                                    2s, &relay);
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(result.error) << result.error.message();
  EXPECT_TRUE(result.streamed);
  EXPECT_EQ(relay.head()["X-From"], "replica");
  EXPECT_EQ(relay.head()[bhttp::field::content_type], "text/event-stream");
  std::string body;
  for (const auto& piece : relay.pieces) body += piece;
  EXPECT_EQ(body, "first;second");
  EXPECT_FALSE(relay.aborted);
  EXPECT_EQ(pool.idle_connections(), 1U);  // a completed stream leaves the connection reusable
}

// When the relay's receiver goes away, the pool closes the connection, and the producer's next
// writes fail: it learns to stop.
TEST(UpstreamRelayTest, AReceiverThatGoesAwayStopsTheProducer) {
  std::atomic<bool> producer_stopped{false};
  auto server = StartStreamingServer(
      [&producer_stopped](Request&, BodyWriter& writer) -> asio::awaitable<Response> {
        writer.Begin(TextResponse(200, "", "text/plain"));
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < 5000; ++i) {  // bounded: 5000 pieces 1 ms apart
          if (!co_await writer.Write("piece " + std::to_string(i) + "\n")) {
            producer_stopped = true;
            break;
          }
          timer.expires_after(1ms);
          co_await timer.async_wait(asio::use_awaitable);
        }
        co_return Response();
      });
  CollectingWriter relay;
  relay.accept_pieces = 3;
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request request = MakeRequest(bhttp::verb::post, "/stream");
        result = co_await pool.Send({asio::ip::make_address("127.0.0.1"), server->port()}, request,
                                    2s, &relay);
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(result.streamed);
  EXPECT_EQ(result.error, asio::error::connection_aborted);
  EXPECT_EQ(pool.idle_connections(), 0U);
  EXPECT_EQ(relay.pieces.size(), 3U);
  for (int i = 0; i < 2000 && !producer_stopped; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(producer_stopped);
}

// A producer that fails half-way: the relay is aborted too, so the client sees it cut short.
TEST(UpstreamRelayTest, AnUpstreamCutShortAbortsTheRelay) {
  auto server = StartStreamingServer([](Request&, BodyWriter& writer) -> asio::awaitable<Response> {
    writer.Begin(TextResponse(200, "", "text/plain"));
    co_await writer.Write("part");
    asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
    co_await timer.async_wait(asio::use_awaitable);  // the relay has the head by now
    writer.Abort();
    co_return Response();
  });
  CollectingWriter relay;
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request request = MakeRequest(bhttp::verb::post, "/stream");
        result = co_await pool.Send({asio::ip::make_address("127.0.0.1"), server->port()}, request,
                                    2s, &relay);
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(result.streamed);
  EXPECT_TRUE(result.error);
  EXPECT_TRUE(relay.aborted);
  ASSERT_FALSE(relay.pieces.empty());
  EXPECT_EQ(relay.pieces.front(), "part");
}

// Without a relay, a chunked answer is read whole, as before.
TEST(UpstreamRelayTest, WithoutARelayTheAnswerIsReadWhole) {
  auto server = StartStreamingServer(TwoPieces);
  asio::io_context io;
  UpstreamPool pool;
  UpstreamResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Request request = MakeRequest(bhttp::verb::post, "/stream");
        result =
            co_await pool.Send({asio::ip::make_address("127.0.0.1"), server->port()}, request, 2s);
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(result.error);
  EXPECT_FALSE(result.streamed);
  EXPECT_EQ(result.response.body(), "abc");
}

std::string Event(std::string_view data, std::string_view event = {}) {
  std::string out;
  AppendEvent(data, event, out);
  return out;
}

TEST(EventStreamTest, EachLineIsADataLine) {
  EXPECT_EQ(Event("hello"), "data: hello\n\n");
  EXPECT_EQ(Event(""), "data: \n\n");
  EXPECT_EQ(Event("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(Event("a\r\nb\rc"), "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(Event("end\n"), "data: end\ndata: \n\n");  // the receiver gets "end\n" back
  EXPECT_EQ(Event("\n"), "data: \ndata: \n\n");
  EXPECT_EQ(Event("{\"error\": \"x\"}", "error"), "event: error\ndata: {\"error\": \"x\"}\n\n");
}

TEST(EventStreamTest, AcceptsEventStreamOnlyWhenAskedByName) {
  EXPECT_TRUE(AcceptsEventStream("text/event-stream"));
  EXPECT_TRUE(AcceptsEventStream("application/json, Text/Event-Stream;q=0.9"));
  EXPECT_TRUE(AcceptsEventStream(" text/event-stream ; charset=utf-8"));
  EXPECT_FALSE(AcceptsEventStream(""));
  EXPECT_FALSE(AcceptsEventStream("*/*"));
  EXPECT_FALSE(AcceptsEventStream("text/*"));
  EXPECT_FALSE(AcceptsEventStream("text/event-stream;q=0"));
  EXPECT_FALSE(AcceptsEventStream("text/event-stream; q=0.0"));
  EXPECT_FALSE(AcceptsEventStream("text/event-streams"));
}

}  // namespace
}  // namespace axon::http
