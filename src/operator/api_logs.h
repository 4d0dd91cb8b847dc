// Reading an API's log file for `GET /v1/apis/NAME/logs` (`axon logs`): whole lines only,
// filtered by time and replica (common/log_line.h's LogFilter). Pure functions over the files;
// thread-safe. The live file is appended to (by replicas and the gateway) and rotated (by the
// operator: copy-truncate into NAME.log.1, .2, ...; common/files.h) while it is read.
//
// A read returns a cursor (`next`) to continue from: which file (the live one or a rotated copy)
// and which byte, and whether plain lines there continue a kept line. Reading on from a cursor
// passes from the oldest rotated copy to the live file, and from a live file that was rotated
// in the meantime into its copy, so a follower loses no line to a rotation unless more than a
// rotation's worth was written between two reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace axon::operator_ {

struct LogQuery {
  int64_t offset = -1;    // >= 0: the lines from this byte of file `rotated` on; < 0: the tail
  int rotated = 0;        // with an offset: 0 = the live file, K = path.K (clamped to the oldest)
  bool raw_kept = false;  // with an offset: plain lines there continue a kept line
  int64_t tail = 100;     // without an offset: the last `tail` kept lines, rotated copies included
  int64_t since_ms = 0;   // Unix ms; 0 = any time
  std::string replica;    // "" = every replica
  std::string job;        // a BatchAPI's or TaskAPI's job: its workers' log (job_names.h)
  // > 0: the lines stamped after this Unix time in ns (a cursor of pod logs, pod_logs.h; the
  // files ignore it)
  int64_t after_ns = 0;
};
inline constexpr int kOldestRotated = 1000;  // `rotated` for "from the oldest copy on"

// The query string of the request: `tail`, `from=start` (every line, from the oldest rotated copy
// on), `offset`, `rotated` and `raw_kept` (as a previous answer's `next` gives them), `since_ms`
// `replica`, `job` and `after_ns`. A value that is not a number leaves its field at the default.
LogQuery ParseLogQuery(std::string_view query);

// {"text": lines, "next": the query ("offset=..&rotated=..&raw_kept=..") that continues after
// them, "more": whether more whole lines can be read right away}. With an offset, at most about
// 1 MiB is read per call, and a last line without its '\n' yet is left for the next call (a
// line longer than that is passed on in pieces). A missing file is an empty log.
nlohmann::json ReadApiLog(const std::filesystem::path& path, const LogQuery& query);

}  // namespace axon::operator_
