#include "cli/project_files.h"

#include "common/files.h"
#include "kube/base64.h"

namespace axon::cli {
namespace fs = std::filesystem;

StatusOr<nlohmann::json> ProjectFiles(const fs::path& folder, uint64_t max_bytes) {
  nlohmann::json files = nlohmann::json::object();
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    total += it->file_size(ec);
    if (total > max_bytes) {
      return InvalidArgument("the spec file's folder " + folder.string() + " holds more than " +
                             std::to_string(max_bytes >> 20) +
                             " MiB: a deploy to a cluster sends the folder's files along; move "
                             "what the predictor does not need out of it");
    }
    auto content = ReadFile(it->path());
    if (!content.ok()) return content.status();
    files[it->path().lexically_relative(folder).generic_string()] = kube::EncodeBase64(*content);
  }
  if (ec) return InvalidArgument("cannot read " + folder.string() + ": " + ec.message());
  return files;
}

}  // namespace axon::cli
