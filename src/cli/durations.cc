#include "cli/durations.h"

#include "spec/quantity.h"

namespace axon::cli {

StatusOr<std::chrono::milliseconds> ParseDurationFlag(std::string_view flag,
                                                      std::string_view text) {
  auto parsed = spec::ParsePositiveDuration(text);
  if (!parsed.ok()) {
    return InvalidArgument(std::string(flag) + ": " + parsed.status().message() + ", got \"" +
                           std::string(text) + "\"");
  }
  return *parsed;
}

StatusOr<int64_t> SinceUnixMs(std::string_view text, int64_t now_ms) {
  auto duration = ParseDurationFlag("--since", text);
  if (!duration.ok()) return duration.status();
  return now_ms - duration->count();
}

}  // namespace axon::cli
