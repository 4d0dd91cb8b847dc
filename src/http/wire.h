// Reading and writing HTTP/1.1 messages on the request path with fewer instructions than
// Beast's composed operations take (bench/callgrind), and the same bytes and errors.
//
// Writing: the start line and the header fields are copied into one buffer and sent with the
// body in one gathered write (writev). The bytes are those Beast's serializer sends for the same
// message; Beast's serializer walks a concatenation of one buffer per field for every write. A
// message with Transfer-Encoding set (chunked) goes through Beast's serializer.
//
// Reading: a message that one read brought in whole (the usual case) is parsed from the buffer
// in place (ParseBuffered), without a composed read operation; otherwise the caller goes on with
// bhttp::async_read, which takes up where the parser stopped.
//
// Streaming (body_writer.h): ChunkSizeLine, kChunkEnd and kLastChunk frame a body sent in pieces
// in the chunked transfer coding (RFC 9112, section 7.1): each chunk is its size in hex and
// CRLF, its bytes, CRLF; the last chunk is "0" CRLF CRLF (no trailer fields).
//
// The message must be ready to send: prepare_payload() called, or Content-Length set by hand.
// Stateless; thread-safe. The message and the stream must outlive the write.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>

#include "http/beast.h"

namespace axon::http {

// The head of a message on the wire: start line, fields, blank line.
using HeadBuffer = fmt::basic_memory_buffer<char, 512>;
void AppendHead(const Request& request, HeadBuffer& out);
void AppendHead(const Response& response, HeadBuffer& out);

// The size line of a chunk of `bytes` bytes: lowercase hex digits without leading zeros, CRLF.
class ChunkSizeLine {
 public:
  explicit ChunkSizeLine(size_t bytes);
  std::string_view view() const { return {text_.data(), size_}; }

 private:
  std::array<char, 2 * sizeof(size_t) + 2> text_;
  size_t size_ = 0;
};
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Feeds what `buffer` holds to `parser` (header and body at once), consuming what it used. True
// once the message is complete. False when more bytes are needed (`ec` clear) or on an error such
// as a malformed message or a limit exceeded (`ec` set, as bhttp::async_read would set it).
template <bool kIsRequest>
bool ParseBuffered(bhttp::parser<kIsRequest, bhttp::string_body>& parser,
                   beast::flat_buffer& buffer, beast::error_code& ec) {
  parser.eager(true);
  while (buffer.size() > 0 && !parser.is_done()) {
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec || used == 0) return false;
  }
  return parser.is_done();
}

// bhttp::async_write(stream, message), as described above. `ec` gets the outcome.
template <typename Stream, bool kIsRequest>
asio::awaitable<void> AsyncWriteMessage(
    Stream& stream, const bhttp::message<kIsRequest, bhttp::string_body>& message,
    beast::error_code& ec) {
  if (message.count(bhttp::field::transfer_encoding) != 0) {
    co_await bhttp::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  HeadBuffer head;
  AppendHead(message, head);
  const std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head.data(), head.size()),
      asio::buffer(message.body().data(), message.body().size())};
  co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace axon::http
