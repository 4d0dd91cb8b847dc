#include "http/wire.h"

#include <sstream>

#include <gtest/gtest.h>

namespace axon::http {
namespace {

// What Beast's own serializer sends for `message`.
template <typename Message>
std::string BeastBytes(const Message& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

template <typename Message>
std::string OurBytes(const Message& message) {
  HeadBuffer head;
  AppendHead(message, head);
  return std::string(head.data(), head.size()) + message.body();
}

TEST(WireTest, RequestsAreTheBytesBeastWrites) {
  Request post{bhttp::verb::post, "/predict?x=1&y=%20", 11};
  post.set(bhttp::field::host, "127.0.0.1:8888");
  post.set(bhttp::field::content_type, "application/json");
  post.set("X-Request-ID", "5f0c1a2b");
  post.set("X-Empty", "");
  post.insert("X-Twice", "a");
  post.insert("X-Twice", "b");
  post.body() = R"({"instances": [[1, 2]]})";
  post.prepare_payload();
  EXPECT_EQ(OurBytes(post), BeastBytes(post));

  Request get{bhttp::verb::get, "/metadata", 10};
  get.prepare_payload();
  EXPECT_EQ(OurBytes(get), BeastBytes(get));
  EXPECT_EQ(OurBytes(get), "GET /metadata HTTP/1.0\r\n\r\n");

  // More fields than the head is copied in at once (16 fields, 4 pieces each), and a head
  // longer than the buffer's inline 1 KiB.
  for (int fields : {14, 15, 16, 17, 40}) {
    Request many{bhttp::verb::post, "/predict", 11};
    for (int i = 0; i < fields; ++i) {
      many.insert("X-Field-" + std::to_string(i), std::string(static_cast<size_t>(i) * 7, 'v'));
    }
    many.prepare_payload();
    EXPECT_EQ(OurBytes(many), BeastBytes(many)) << fields;
  }
}

TEST(WireTest, ResponsesAreTheBytesBeastWrites) {
  for (unsigned status : {200u, 204u, 404u, 431u, 503u, 299u}) {
    Response response{static_cast<bhttp::status>(status), 11};
    response.set(bhttp::field::content_type, "application/json");
    if (status != 204) response.body() = "{\"error\": \"x\"}";
    response.keep_alive(false);
    response.prepare_payload();
    EXPECT_EQ(OurBytes(response), BeastBytes(response)) << status;
  }
  Response custom{bhttp::status::ok, 10};
  custom.reason("Fine Thanks");
  custom.body() = "ok";
  custom.prepare_payload();
  EXPECT_EQ(OurBytes(custom), BeastBytes(custom));
  EXPECT_EQ(OurBytes(custom).substr(0, 26), "HTTP/1.0 200 Fine Thanks\r\n");
}

void Fill(beast::flat_buffer& buffer, std::string_view bytes) {
  buffer.commit(asio::buffer_copy(buffer.prepare(bytes.size()), asio::buffer(bytes)));
}

TEST(WireTest, ParseBufferedTakesOneMessageAndLeavesTheNext) {
  beast::flat_buffer buffer;
  Fill(buffer,
       "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
       "GET /b HTTP/1.1\r\n\r\n");
  bhttp::request_parser<bhttp::string_body> first;
  beast::error_code ec;
  ASSERT_TRUE(ParseBuffered(first, buffer, ec));
  EXPECT_FALSE(ec);
  EXPECT_EQ(first.get().target(), "/a");
  EXPECT_EQ(first.get().body(), "abc");
  bhttp::request_parser<bhttp::string_body> second;
  ASSERT_TRUE(ParseBuffered(second, buffer, ec));
  EXPECT_EQ(second.get().target(), "/b");
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(WireTest, ParseBufferedWaitsForTheRest) {
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  beast::error_code ec;
  Fill(buffer, "HTTP/1.1 200 OK\r\nContent-Le");
  EXPECT_FALSE(ParseBuffered(parser, buffer, ec));
  EXPECT_FALSE(ec);
  Fill(buffer, "ngth: 5\r\n\r\nhel");
  EXPECT_FALSE(ParseBuffered(parser, buffer, ec));
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_header_done());
  Fill(buffer, "lo");
  EXPECT_TRUE(ParseBuffered(parser, buffer, ec));
  EXPECT_EQ(parser.get().body(), "hello");
}

TEST(WireTest, ParseBufferedReportsTheErrorsAsyncReadWould) {
  beast::error_code ec;
  {
    beast::flat_buffer buffer;
    Fill(buffer, "NOT HTTP AT ALL\r\n\r\n");
    bhttp::request_parser<bhttp::string_body> parser;
    EXPECT_FALSE(ParseBuffered(parser, buffer, ec));
    EXPECT_TRUE(ec);
  }
  {
    beast::flat_buffer buffer;
    Fill(buffer, "GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'x') + "\r\n\r\n");
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(100);
    EXPECT_FALSE(ParseBuffered(parser, buffer, ec));
    EXPECT_EQ(ec, bhttp::error::header_limit);
  }
  {
    beast::flat_buffer buffer;
    Fill(buffer, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(4);
    EXPECT_FALSE(ParseBuffered(parser, buffer, ec));
    EXPECT_EQ(ec, bhttp::error::body_limit);
  }
}

// A message is written whole, and a chunked one through Beast, over a real socket pair.
TEST(WireTest, AsyncWriteMessageSendsWholeMessages) {
  asio::io_context io;
  local_stream::socket writer(io);
  local_stream::socket reader(io);
  asio::local::connect_pair(writer, reader);
  Response plain{bhttp::status::ok, 11};
  plain.body() = std::string(200'000, 'x');  // more than one write_some
  plain.prepare_payload();
  Response chunked{bhttp::status::ok, 11};
  chunked.chunked(true);
  chunked.body() = "abc";
  beast::error_code first, second;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await AsyncWriteMessage(writer, plain, first);
        co_await AsyncWriteMessage(writer, chunked, second);
        writer.shutdown(local_stream::socket::shutdown_send);
      },
      asio::detached);
  std::string received;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        char block[65536];
        for (;;) {
          beast::error_code ec;
          const size_t n = co_await reader.async_read_some(
              asio::buffer(block), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return;
          received.append(block, n);
        }
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(first);
  EXPECT_FALSE(second);
  EXPECT_EQ(received, BeastBytes(plain) + BeastBytes(chunked));
  EXPECT_NE(received.find("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace axon::http
