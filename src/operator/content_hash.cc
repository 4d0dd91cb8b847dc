#include "operator/content_hash.h"

#include <algorithm>
#include <fstream>
#include <vector>

#include <fmt/format.h>

namespace axon::operator_ {
namespace {

class Fnv1a {
 public:
  void Add(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

bool Skipped(const std::filesystem::path& name) {
  const std::string s = name.filename().string();
  return s == "__pycache__" || (s.size() > 1 && s[0] == '.');
}

}  // namespace

std::string ContentHash(const std::string& spec_text, const std::filesystem::path& folder) {
  Fnv1a hash;
  hash.Add(spec_text);
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (Skipped(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<char> buffer(1 << 16);
  for (const auto& file : files) {
    hash.Add(std::filesystem::relative(file, folder).string());
    std::ifstream in(file, std::ios::binary);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      hash.Add({buffer.data(), static_cast<size_t>(in.gcount())});
    }
  }
  return fmt::format("{:016x}", hash.value());
}

}  // namespace axon::operator_
