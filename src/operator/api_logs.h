// Reading an API's log file for `GET /v1/apis/NAME/logs` (`axon logs`): whole lines only,
// filtered by time and replica (common/log_line.h's LogFilter). Pure functions over the file;
// thread-safe. The file may be appended to (by replicas and the gateway) and rotated (by the
// operator) while it is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace axon::operator_ {

struct LogQuery {
  int64_t offset = -1;  // >= 0: the lines from this byte on; < 0: the last `tail` lines
  int64_t tail = 100;
  int64_t since_ms = 0;  // Unix ms; 0 = any time
  std::string replica;   // "" = every replica
};

// {"text": lines, "offset": where to continue, "size": the file's size}. With an offset, at
// most about 1 MiB of the file is read per call, and a last line without its '\n' yet is left
// for the next call; an offset beyond the end (the file was rotated) starts over from 0. A
// missing file is an empty log.
nlohmann::json ReadApiLog(const std::filesystem::path& path, const LogQuery& query);

}  // namespace axon::operator_
