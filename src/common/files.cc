#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace axon {

StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                       std::filesystem::perms perms) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto tmp = path.string() + ".tmp" + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + tmp);
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  std::filesystem::permissions(tmp, perms, ec);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Internal("cannot write " + path.string());
  }
  return OkStatus();
}

std::string TailFile(const std::filesystem::path& path, size_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  return TailText(in, in.tellg(), max_lines);
}

std::string TailText(std::istream& in, std::streamoff end, size_t max_lines) {
  if (max_lines == 0 || end <= 0) return "";
  const std::streamoff start = std::max<std::streamoff>(0, end - 64 * 1024);
  in.clear();
  in.seekg(start);
  std::string text(static_cast<size_t>(end - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (size_t lines = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
  }
  if (pos == 0 && start > 0) {  // the window begins inside a line: leave that piece out
    const size_t first_newline = text.find('\n');
    pos = first_newline == std::string::npos ? text.size() : first_newline + 1;
  }
  return text.substr(pos);
}

std::string RandomHex(size_t n) {
  std::random_device device;  // reads the kernel's entropy source
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned>(device()) & 0xffU;
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xfU];
  }
  return out;
}

}  // namespace axon

namespace axon {

void RotateIfLarger(const std::filesystem::path& path, uintmax_t max_bytes, int keep) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) <= max_bytes || ec) return;
  auto numbered = [&](int i) { return path.string() + "." + std::to_string(i); };
  for (int i = keep - 1; i >= 1; --i) std::filesystem::rename(numbered(i), numbered(i + 1), ec);
  std::filesystem::copy_file(path, numbered(1), std::filesystem::copy_options::overwrite_existing,
                             ec);
  std::filesystem::resize_file(path, 0, ec);
}

}  // namespace axon
