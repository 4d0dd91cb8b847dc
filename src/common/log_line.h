// The one definition of Axon's log lines: every process (operator, gateway, replica, and the
// Python glue in a replica, which writes the same fields) logs one JSON object per line:
//
//   {"time":"2026-12-02T07:49:12.345Z","level":"info","source":"replica","api":"iris",
//    "version":3,"replica":"iris-1a2b3c4d","request_id":"5f0c...","message":"ready"}
//
// `time` (UTC, milliseconds), `level` and `message` are always there; `source`, `api`,
// `version`, `replica` and `request_id` only when known. Request lines written by the gateway
// add `method`, `path`, `status` and `latency_ms`; a predictor's print adds `stream`.
// Readers (`axon logs`, the operator's filters) also accept lines that are not JSON: they come
// from code that writes to a replica's stdout or stderr below Python (a native library, a
// `type: command` server) and are shown as they are.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace axon {

// The fields a writer knows; empty strings and version 0 are left out of the line.
struct LogFields {
  int64_t time_ms = 0;  // Unix time in milliseconds
  std::string_view level = "info";
  std::string_view source;
  std::string_view api;
  int64_t version = 0;
  std::string_view replica;
  std::string_view request_id;
  std::string_view message;
};

// Appends `fields` as one JSON line ending in '\n', then `extra` members before the closing
// brace. `extra` is raw JSON text of members ("\"status\":200,\"method\":\"POST\""), written by
// the caller with AppendJsonString for strings; "" for none. No heap allocation when `out` has
// room (fmt::memory_buffer keeps 500 bytes inline).
void AppendLogLine(fmt::memory_buffer& out, const LogFields& fields, std::string_view extra = "");

// Appends `text` as a JSON string (quoted, escaped; invalid UTF-8 bytes become U+FFFD).
void AppendJsonString(fmt::memory_buffer& out, std::string_view text);

// "2026-12-02T07:49:12.345Z" for a Unix time in milliseconds, and back (nullopt if `text` is
// not in exactly that form).
std::string FormatLogTime(int64_t time_ms);
std::optional<int64_t> ParseLogTime(std::string_view text);
// Unix nanoseconds of an RFC 3339 UTC time with 0 to 9 digits of fraction
// ("2026-12-02T07:49:12.123456789Z", "2026-12-02T07:49:12Z": the kubelet's RFC3339Nano stamps
// on container log lines); nullopt if `text` is not in that form.
std::optional<int64_t> ParseUtcTimeNs(std::string_view text);

// A line as read back. `json` is null for a line that is not one of ours (not a JSON object
// with a string "message" and a valid "time"); then only `raw` is set.
struct ParsedLogLine {
  std::string_view raw;         // the line without its '\n'
  nlohmann::ordered_json json;  // members in the order of the line
  int64_t time_ms = 0;
  std::string replica;
  bool structured() const { return !json.is_null(); }
};
ParsedLogLine ParseLogLine(std::string_view line);

// The line for a terminal: "2026-12-02 07:49:12.345 info  iris-1a2b3c4d  ready", then the
// fields other than time, level, source, api, version, replica and message as key=value
// ("request_id=5f0c status=200"). Who wrote it is the replica, else the source. A line that is
// not structured is returned as it is.
std::string HumanLogLine(const ParsedLogLine& line);

// Which lines `axon logs --since/--replica` keep. A line that is not structured has no time and
// no replica: it is kept when the structured line before it was. `raw_kept` carries that
// decision from one piece of a file to the next (false at the start of a file).
class LogFilter {
 public:
  LogFilter(int64_t since_ms, std::string replica, bool raw_kept = false)
      : since_ms_(since_ms), replica_(std::move(replica)), keep_raw_(raw_kept) {}
  bool Active() const { return since_ms_ > 0 || !replica_.empty(); }
  bool Keep(const ParsedLogLine& line);
  // Whether a plain line that came next would be kept.
  bool raw_kept() const { return keep_raw_; }

 private:
  int64_t since_ms_;     // 0 = any time
  std::string replica_;  // "" = every replica
  bool keep_raw_;
};

}  // namespace axon
