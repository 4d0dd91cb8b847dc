#include "http/sse.h"

#include <algorithm>
#include <cctype>

namespace axon::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Whether the parameters of one media range (after its first ';') set q to zero.
bool RefusedByQuality(std::string_view params) {
  while (!params.empty()) {
    const size_t end = std::min(params.find(';'), params.size());
    const std::string_view param = Trim(params.substr(0, end));
    params.remove_prefix(std::min(end + 1, params.size()));
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const std::string_view value = Trim(param.substr(2));
    return !value.empty() &&
           std::all_of(value.begin(), value.end(), [](char c) { return c == '0' || c == '.'; });
  }
  return false;
}

}  // namespace

void AppendEvent(std::string_view data, std::string_view event, std::string& out) {
  if (!event.empty()) ((out += "event: ") += event) += '\n';
  for (;;) {
    const size_t end = data.find_first_of("\r\n");
    ((out += "data: ") += data.substr(0, end)) += '\n';
    if (end == std::string_view::npos) break;
    const bool crlf = data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n';
    data.remove_prefix(end + (crlf ? 2 : 1));
  }
  out += '\n';
}

bool AcceptsEventStream(std::string_view accept) {
  while (!accept.empty()) {
    const size_t end = std::min(accept.find(','), accept.size());
    const std::string_view range = accept.substr(0, end);
    accept.remove_prefix(std::min(end + 1, accept.size()));
    const size_t semicolon = std::min(range.find(';'), range.size());
    if (EqualsIgnoringCase(Trim(range.substr(0, semicolon)), kEventStreamType)) {
      return !RefusedByQuality(range.substr(std::min(semicolon + 1, range.size())));
    }
  }
  return false;
}

}  // namespace axon::http
