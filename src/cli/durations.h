// The CLI's duration flags: `axon logs --since 10m` and `axon deploy --timeout 5m`. Pure
// functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace axon::cli {

// A positive duration as the spec writes them ("30s", "10m", "2h", "1h30m", "500ms"). The
// error message names `flag` and says what is allowed, e.g.
//   --since: needs a unit: write e.g. "10s" for 10 seconds (units: ms, s, m, h), got "10"
StatusOr<std::chrono::milliseconds> ParseDurationFlag(std::string_view flag, std::string_view text);

// `--since TEXT` as a Unix time in milliseconds: `now_ms` minus the duration.
StatusOr<int64_t> SinceUnixMs(std::string_view text, int64_t now_ms);

}  // namespace axon::cli
