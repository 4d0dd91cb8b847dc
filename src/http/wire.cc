#include "http/wire.h"

#include <string_view>

namespace axon::http {
namespace {

void Append(HeadBuffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void AppendVersion(HeadBuffer& out, unsigned version) {
  Append(out, version == 10 ? "HTTP/1.0" : "HTTP/1.1");
}

void AppendFields(const bhttp::fields& fields, HeadBuffer& out) {
  for (const auto& field : fields) {
    Append(out, field.name_string());
    Append(out, ": ");
    Append(out, field.value());
    Append(out, "\r\n");
  }
  Append(out, "\r\n");
}

}  // namespace

ChunkSizeLine::ChunkSizeLine(size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char reversed[2 * sizeof(size_t)];
  size_t digits = 0;
  do {
    reversed[digits++] = kDigits[bytes & 0xfU];
    bytes >>= 4;
  } while (bytes != 0);
  while (digits > 0) text_[size_++] = reversed[--digits];
  text_[size_++] = '\r';
  text_[size_++] = '\n';
}

void AppendHead(const Request& request, HeadBuffer& out) {
  Append(out, request.method_string());
  Append(out, " ");
  Append(out, request.target());
  Append(out, " ");
  AppendVersion(out, request.version());
  Append(out, "\r\n");
  AppendFields(request.base(), out);
}

void AppendHead(const Response& response, HeadBuffer& out) {
  AppendVersion(out, response.version());
  fmt::format_to(std::back_inserter(out), " {:03d} ", response.result_int());
  Append(out, response.reason());
  Append(out, "\r\n");
  AppendFields(response.base(), out);
}

}  // namespace axon::http
