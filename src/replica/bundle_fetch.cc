#include "replica/bundle_fetch.h"

#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/folder_hash.h"
#include "contract/bundles.h"
#include "http/client.h"

namespace axon::replica {
namespace {

namespace fs = std::filesystem;

StatusOr<http::Peer> PeerOf(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest(url);
  if (!rest.starts_with(kScheme)) {
    return InvalidArgument("--bundle-url " + url + ": expected http://HOST:PORT");
  }
  rest.remove_prefix(kScheme.size());
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  http::Peer peer;
  try {
    peer.host = std::string(rest.substr(0, colon));
    peer.port = static_cast<uint16_t>(std::stoi(std::string(rest.substr(colon + 1))));
  } catch (const std::exception&) {
    return InvalidArgument("--bundle-url " + url + ": expected http://HOST:PORT");
  }
  if (colon == std::string_view::npos || peer.host.empty()) {
    return InvalidArgument("--bundle-url " + url + ": expected http://HOST:PORT");
  }
  return peer;
}

// GET `target` with the bundle key; the body of a 200 answer.
StatusOr<std::string> Get(const BundleFetch& fetch, const http::Peer& peer,
                          const std::string& target) {
  Status last = OkStatus();
  auto delay = std::chrono::milliseconds(1000);
  for (int attempt = 1; attempt <= std::max(1, fetch.attempts); ++attempt) {
    auto response = http::Fetch(peer, http::MakeRequest(http::bhttp::verb::get, target, fetch.key),
                                fetch.timeout);
    if (response.ok()) {
      if (response->result_int() == 200) return std::move(response->body());
      return Unavailable("GET " + fetch.url + target + ": HTTP " +
                         std::to_string(response->result_int()) + " " + response->body());
    }
    last = response.status();
    if (attempt < fetch.attempts) {
      spdlog::warn("bundle: {}; retrying in {} ms", last.message(), delay.count());
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
  }
  return Unavailable("cannot fetch the bundle from the operator at " + fetch.url + ": " +
                     last.message());
}

// Percent-encodes every byte of a relative path but unreserved ones and '/'.
std::string EscapePath(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status WriteOne(const fs::path& target, const std::string& content) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Internal("cannot write " + target.string());
  return OkStatus();
}

}  // namespace

Status FetchBundle(const BundleFetch& fetch) {
  if (auto have = FolderHash(fetch.into); have.ok() && *have == fetch.hash) {
    spdlog::info("bundle {} already in {}", fetch.hash, fetch.into.string());
    return OkStatus();
  }
  auto peer = PeerOf(fetch.url);
  if (!peer.ok()) return peer.status();
  const std::string index_target = contract::BundleIndexTarget(fetch.hash);
  auto index_text = Get(fetch, *peer, index_target);
  if (!index_text.ok()) return index_text.status();
  const auto index = nlohmann::json::parse(*index_text, nullptr, false);
  if (!index.is_object() || !index.contains("files") || !index["files"].is_array()) {
    return Unavailable("the operator's answer to GET " + index_target + " is not a file list");
  }
  for (const auto& entry : index["files"]) {
    const std::string path = entry.value("path", "");
    const fs::path relative = fs::path(path).lexically_normal();
    if (path.empty() || relative.is_absolute() || *relative.begin() == "..") {
      return Unavailable("bundle " + fetch.hash + " lists a bad path: " + path);
    }
    auto content = Get(fetch, *peer, index_target + "/files/" + EscapePath(path));
    if (!content.ok()) return content.status();
    if (Status s = WriteOne(fetch.into / relative, *content); !s.ok()) return s;
  }
  auto got = FolderHash(fetch.into);
  if (!got.ok()) return got.status();
  if (*got != fetch.hash) {
    return Unavailable("the bundle fetched into " + fetch.into.string() + " hashes to " + *got +
                       ", not " + fetch.hash);
  }
  spdlog::info("bundle {}: {} files fetched", fetch.hash, index["files"].size());
  return OkStatus();
}

}  // namespace axon::replica
