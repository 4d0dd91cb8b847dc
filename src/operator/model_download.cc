#include "operator/model_download.h"

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/model_url.h"
#include "http/client.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

constexpr int kMaxRedirects = 5;

// The URL's parts, or an error naming it.
StatusOr<http::Peer> PeerOf(const std::string& url, ModelUrl* parsed) {
  auto p = ParseModelUrl(url);
  if (!p.ok()) return InvalidArgument("model URL " + url + ": " + p.status().message());
  *parsed = std::move(p).value();
  return http::Peer{.host = parsed->host, .port = parsed->port, .tls = parsed->tls};
}

}  // namespace

StatusOr<fs::path> DownloadModel(const std::string& url, const fs::path& folder,
                                 std::chrono::milliseconds timeout) {
  ModelUrl parsed;
  auto peer = PeerOf(url, &parsed);
  if (!peer.ok()) return peer.status();
  const std::string file_name = parsed.file_name;
  std::string at = url;
  for (int redirects = 0;; ++redirects) {
    auto response = http::Fetch(*peer, http::MakeRequest(bhttp::verb::get, parsed.target), timeout);
    if (!response.ok()) {
      return Status(response.status().code(),
                    "model_path " + url + ": " + response.status().message());
    }
    const unsigned code = response->result_int();
    if (code >= 300 && code < 400 && response->count(bhttp::field::location) > 0) {
      if (redirects == kMaxRedirects) {
        return Unavailable("model_path " + url + ": more than " + std::to_string(kMaxRedirects) +
                           " redirects");
      }
      at = std::string((*response)[bhttp::field::location]);
      if (at.starts_with("/")) {  // same server
        parsed.target = at;
        continue;
      }
      peer = PeerOf(at, &parsed);
      if (!peer.ok()) return peer.status();
      continue;
    }
    if (code != 200) {
      return Unavailable("model_path " + url + ": HTTP " + std::to_string(code) +
                         (at == url ? "" : " from " + at) +
                         " (is the URL right, and readable without credentials?)");
    }
    std::error_code ec;
    fs::create_directories(folder, ec);
    const fs::path file = folder / file_name;
    if (Status s = WriteFileAtomic(file, response->body()); !s.ok()) {
      spdlog::error("model_path {}: {}", url, s.message());
      return Internal("model_path " + url +
                      ": the operator cannot store the download (is its disk full?)");
    }
    return file;
  }
}

}  // namespace axon::operator_
