#include "operator/model_download.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "common/files.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

constexpr int kMaxRedirects = 5;

bool SafeFileChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

std::string FileNameOf(std::string_view path) {
  std::string_view last = path.substr(path.rfind('/') + 1);
  std::string name;
  for (char c : last) name += SafeFileChar(c) ? c : '_';
  return name.empty() || name == "." || name == ".." ? "model" : name;
}

}  // namespace

StatusOr<ModelUrl> ParseModelUrl(std::string_view url) {
  ModelUrl out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.peer.tls = true;
    out.peer.port = 443;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.peer.port = 80;
    rest.remove_prefix(7);
  } else {
    return InvalidArgument("model URL " + std::string(url) + ": expected http:// or https://");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("model URL " + std::string(url) +
                           ": credentials in the URL are not taken (use a signed URL)");
  }
  const size_t colon = authority.rfind(':');
  std::string_view host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("model URL " + std::string(url) + ": bad port \"" + std::string(port) +
                             "\"");
    }
    out.peer.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) return InvalidArgument("model URL " + std::string(url) + ": no host");
  out.peer.host = std::string(host);
  out.file_name = FileNameOf(std::string_view(out.target).substr(0, out.target.find('?')));
  return out;
}

StatusOr<fs::path> DownloadModel(const std::string& url, const fs::path& folder,
                                 std::chrono::milliseconds timeout) {
  auto parsed = ParseModelUrl(url);
  if (!parsed.ok()) return parsed.status();
  const std::string file_name = parsed->file_name;
  std::string at = url;
  for (int redirects = 0;; ++redirects) {
    auto response =
        http::Fetch(parsed->peer, http::MakeRequest(bhttp::verb::get, parsed->target), timeout);
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
        parsed->target = at;
        continue;
      }
      parsed = ParseModelUrl(at);
      if (!parsed.ok()) return parsed.status();
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
