// Process-wide logging set-up on top of spdlog. Call InitLogging once from main() before any
// other thread starts; afterwards spdlog's free functions and LogForRequest are safe from any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace axon {

// Who is logging; written into every line (common/log_line.h). Empty fields are left out.
struct LogContext {
  std::string source;  // "operator", "gateway", "replica"
  std::string api;
  int64_t version = 0;
  std::string replica;
};

// Logs go to stderr as JSON lines (common/log_line.h), or, when stderr is a terminal, as
// "2026-01-02 03:04:05.678 [gateway] info: message". AXON_LOG_LEVEL sets the level.
void InitLogging(LogContext context);

// Logs `message` with the request's id in the line's request_id field.
void LogForRequest(spdlog::level::level_enum level, std::string_view request_id,
                   std::string_view message);

}  // namespace axon
