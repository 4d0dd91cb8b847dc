#include "gateway/v2_path.h"

#include <vector>

namespace axon::gateway {

bool IsV2Path(std::string_view path) { return path == "/v2" || path.starts_with("/v2/"); }

V2Path ParseV2Path(std::string_view path) {
  if (path == "/v2") return {V2Path::kServerMetadata, "", ""};
  if (path == "/v2/health/live") return {V2Path::kLive, "", ""};
  if (path == "/v2/health/ready") return {V2Path::kReady, "", ""};
  constexpr std::string_view kModels = "/v2/models/";
  if (!path.starts_with(kModels)) return {};
  std::vector<std::string_view> parts;
  std::string_view rest = path.substr(kModels.size());
  while (true) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (std::string_view part : parts) {
    if (part.empty()) return {};
  }
  V2Path out;
  out.model = std::string(parts[0]);
  size_t next = 1;
  if (parts.size() >= 3 && parts[1] == "versions") {
    out.version = std::string(parts[2]);
    next = 3;
  }
  if (next == parts.size()) {
    out.kind = V2Path::kModelMetadata;
  } else if (next + 1 == parts.size() && parts[next] == "ready") {
    out.kind = V2Path::kModelReady;
  } else if (next + 1 == parts.size() && parts[next] == "infer") {
    out.kind = V2Path::kInfer;
  } else {
    return {};
  }
  return out;
}

}  // namespace axon::gateway
