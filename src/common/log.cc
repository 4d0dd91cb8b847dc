#include "common/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/log_line.h"

namespace axon {
namespace {

// The request id of the line being logged on this thread, set by LogForRequest for the
// duration of its (synchronous) spdlog call.
thread_local std::string_view current_request_id;

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "info";
  }
}

// spdlog formatter writing common/log_line.h's JSON lines with a fixed context.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  explicit JsonLineFormatter(LogContext context) : context_(std::move(context)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    fmt::memory_buffer line;
    AppendLogLine(line, {.time_ms = ms.count(),
                         .level = LevelName(msg.level),
                         .source = context_.source,
                         .api = context_.api,
                         .version = context_.version,
                         .replica = context_.replica,
                         .request_id = current_request_id,
                         .message = std::string_view(msg.payload.data(), msg.payload.size())});
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>(context_);
  }

 private:
  LogContext context_;
};

}  // namespace

void InitLogging(LogContext context) {
  std::string name = context.source;
  if (!context.replica.empty()) name += " " + context.replica;
  auto logger = spdlog::stderr_logger_mt(name);
  if (::isatty(STDERR_FILENO) == 1) {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%n] %l: %v");
  } else {
    logger->set_formatter(std::make_unique<JsonLineFormatter>(std::move(context)));
  }
  const char* level = std::getenv("AXON_LOG_LEVEL");
  logger->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void LogForRequest(spdlog::level::level_enum level, std::string_view request_id,
                   std::string_view message) {
  current_request_id = request_id;
  spdlog::log(level, "{}", message);
  current_request_id = {};
}

}  // namespace axon
