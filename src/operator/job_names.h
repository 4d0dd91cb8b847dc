// The names a job's parts go by, one definition for the runner, the views and the logs:
// its worker target and log file ("<api>.<job id>": an API name has no '.'), its work queue
// ("job:<api>:<job id>": nor ':'), and what a job id looks like (16 hex digits).
#pragma once

#include <string>
#include <string_view>

namespace axon::operator_ {

inline std::string JobWorkerName(std::string_view api, std::string_view id) {
  return std::string(api) + "." + std::string(id);
}

inline std::string JobQueueName(std::string_view api, std::string_view id) {
  return "job:" + std::string(api) + ":" + std::string(id);
}

inline bool LooksLikeJobId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace axon::operator_
