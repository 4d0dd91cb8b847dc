#include "common/model_url.h"

#include <charconv>

namespace axon {
namespace {

bool SafeFileChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

StatusOr<ModelUrl> ParseModelUrl(std::string_view url) {
  ModelUrl out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.port = 80;
    rest.remove_prefix(7);
  } else {
    return InvalidArgument("expected http:// or https://");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("credentials in the URL are not taken (use a signed URL)");
  }
  const size_t colon = authority.rfind(':');
  const std::string_view host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("bad port \"" + std::string(port) + "\"");
    }
    out.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) return InvalidArgument("no host");
  out.host = std::string(host);
  if (slash == std::string_view::npos) return InvalidArgument("no path to a model file");
  out.target = std::string(rest.substr(slash));
  const std::string_view path = std::string_view(out.target).substr(0, out.target.find('?'));
  const std::string_view last = path.substr(path.rfind('/') + 1);
  if (last.empty() || last == "." || last == "..") {
    return InvalidArgument("the path names no file");
  }
  for (char c : last) out.file_name += SafeFileChar(c) ? c : '_';
  return out;
}

}  // namespace axon
