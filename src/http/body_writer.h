// A way for a handler to send its answer's body in pieces, as they are produced: chunked
// transfer coding (HTTP/1.1), or, for an HTTP/1.0 client, the raw bytes with the end of the
// body marked by closing the connection. Streamed answers (a Python predict() that yields)
// use it; every other answer is a whole Response, written in one gathered write (wire.h).
//
// The server gives one BodyWriter to each call of a StreamingHandler (server.h). A handler
// that calls Begin() streams: the Response it then returns is ignored, and the server ends the
// body (the last chunk) once the handler has returned, unless Abort() was called.
//
// Threading: the connection's I/O thread only, within the handler call it was given to.
// Lifetime: valid until that handler call returns.
#pragma once

#include <string_view>

#include "http/beast.h"

namespace axon::http {

class BodyWriter {
 public:
  virtual ~BodyWriter() = default;

  // Starts the answer with `head`'s status and fields (its body and any Content-Length or
  // Transfer-Encoding are dropped; the writer sets the framing). Nothing is sent yet: the head
  // goes out with the first Write(), or with the end of the body. At most once.
  virtual void Begin(Response head) = 0;
  // Sends `piece` (one chunk) and returns once it is written, so that a producer never runs
  // ahead of its receiver. False when the receiver went away, or stopped reading for the
  // server's idle timeout: the producer should stop. An empty piece sends nothing.
  virtual asio::awaitable<bool> Write(std::string_view piece) = 0;
  // The body cannot be completed (its producer failed half-way): the connection is closed
  // without the last chunk, so that the receiver sees the answer as cut short.
  virtual void Abort() = 0;
  // Whether Begin() was called.
  virtual bool began() const = 0;
};

}  // namespace axon::http
