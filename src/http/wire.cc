#include "http/wire.h"

#include <array>
#include <cstring>
#include <string_view>

namespace axon::http {
namespace {

// Copies the pieces of a head into `out` with one resize and a memcpy each (fmt's append of many
// short pieces costs more than the copying).
class HeadWriter {
 public:
  explicit HeadWriter(HeadBuffer& out) : out_(out) {}
  void Add(std::string_view piece) { pieces_[count_++] = piece; }
  bool full() const { return count_ + kPerField > pieces_.size(); }
  // Appends what was added to `out`, and starts again.
  void Flush() {
    size_t size = 0;
    for (size_t i = 0; i < count_; ++i) size += pieces_[i].size();
    const size_t at = out_.size();
    out_.resize(at + size);
    char* cursor = out_.data() + at;
    for (size_t i = 0; i < count_; ++i) {
      std::memcpy(cursor, pieces_[i].data(), pieces_[i].size());
      cursor += pieces_[i].size();
    }
    count_ = 0;
  }

  static constexpr size_t kPerField = 4;

 private:
  HeadBuffer& out_;
  std::array<std::string_view, 64> pieces_;
  size_t count_ = 0;
};

std::string_view VersionText(unsigned version) { return version == 10 ? "HTTP/1.0" : "HTTP/1.1"; }

void AddFields(const bhttp::fields& fields, HeadWriter& head) {
  for (const auto& field : fields) {
    if (head.full()) head.Flush();
    head.Add(field.name_string());
    head.Add(": ");
    head.Add(field.value());
    head.Add("\r\n");
  }
  if (head.full()) head.Flush();
  head.Add("\r\n");
  head.Flush();
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
  HeadWriter head(out);
  head.Add(request.method_string());
  head.Add(" ");
  head.Add(request.target());
  head.Add(" ");
  head.Add(VersionText(request.version()));
  head.Add("\r\n");
  AddFields(request.base(), head);
}

void AppendHead(const Response& response, HeadBuffer& out) {
  const unsigned status = response.result_int();
  const char code[] = {' ', static_cast<char>('0' + status / 100 % 10),
                       static_cast<char>('0' + status / 10 % 10),
                       static_cast<char>('0' + status % 10), ' '};
  HeadWriter head(out);
  head.Add(VersionText(response.version()));
  head.Add(std::string_view(code, sizeof code));
  head.Add(response.reason());
  head.Add("\r\n");
  AddFields(response.base(), head);
}

}  // namespace axon::http
