#include "operator/bundle_server.h"

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/folder_hash.h"
#include "contract/bundles.h"
#include "http/responses.h"
#include "http/url.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

bool IsHash(std::string_view s) {
  if (s.size() != kFolderHashDigits) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

http::Response ServeBundle(const BundleStore& bundles, const std::string& token,
                           const http::Request& request, std::string_view rest) {
  if (request.method() != http::bhttp::verb::get) {
    return http::JsonError(405, "bundles are read with GET");
  }
  const std::string hash(rest.substr(0, rest.find('/')));
  // The key check comes first: without the key, an unknown bundle and a known one look alike.
  if (!IsHash(hash) ||
      !http::SecretsEqual(http::BearerToken(request), contract::BundleKey(token, hash))) {
    return http::JsonError(401, "missing or wrong bundle key");
  }
  const fs::path root = bundles.Path(hash);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return http::JsonError(404, "no bundle " + hash);
  auto files = FolderFiles(root);
  if (!files.ok()) return http::JsonError(500, "bundle " + hash + " cannot be listed");
  const std::string_view tail = rest.substr(hash.size());
  if (tail.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& file : *files) {
      list.push_back(
          {{"path", fs::relative(file, root).generic_string()}, {"size", fs::file_size(file, ec)}});
    }
    return http::JsonResponse(200, {{"hash", hash}, {"files", list}});
  }
  constexpr std::string_view kFiles = "/files/";
  if (!tail.starts_with(kFiles)) return http::JsonError(404, "no such bundle path");
  const std::string wanted = http::PercentDecode(tail.substr(kFiles.size()));
  for (const auto& file : *files) {
    if (fs::relative(file, root).generic_string() != wanted) continue;
    auto content = ReadFile(file);
    if (!content.ok()) return http::JsonError(500, "bundle file " + wanted + " cannot be read");
    return http::TextResponse(200, std::move(content).value(), "application/octet-stream");
  }
  return http::JsonError(404, "bundle " + hash + " has no file " + wanted);
}

}  // namespace axon::operator_
