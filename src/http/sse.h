// Server-Sent Events (the HTML standard's text/event-stream format): the framing of a streamed
// answer whose client asked for `Accept: text/event-stream`. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace axon::http {

inline constexpr std::string_view kEventStreamType = "text/event-stream";

// Appends one event to `out`: "event: NAME" when `event` is not empty, one "data: " line per
// line of `data`, then a blank line. Lines of `data` end at CRLF, CR or LF; a line break at
// the very end gives an empty last data line, so that the receiver, which joins data lines
// with LF, gets `data` back (with every line break as LF). `event` must be one line.
void AppendEvent(std::string_view data, std::string_view event, std::string& out);

// Whether an Accept header value lists text/event-stream (case-insensitive, parameters
// ignored, except that q=0 refuses it). "*/*" does not count: streams are framed as events only
// when a client asks for them by name.
bool AcceptsEventStream(std::string_view accept);

}  // namespace axon::http
