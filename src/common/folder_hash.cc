#include "common/folder_hash.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace axon {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;

bool Skipped(const fs::path& name) {
  const std::string s = name.filename().string();
  return s == "__pycache__" || (s.size() > 1 && s[0] == '.');
}

}  // namespace

StatusOr<std::vector<fs::path>> FolderFiles(const fs::path& folder, const fs::path& exclude) {
  const fs::path excluded = exclude.empty() ? exclude : exclude.lexically_normal();
  std::vector<fs::path> files;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(folder, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (Skipped(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().lexically_normal() != excluded) {
      files.push_back(it->path());
    }
  }
  if (ec) return Internal("cannot list " + folder.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

Status HashFile(const fs::path& file, Sha256& hash, std::ofstream* copy,
                std::vector<char>& buffer) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Internal("cannot read " + file.string() + ": " + std::strerror(errno));
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    const auto n = static_cast<size_t>(in.gcount());
    hash.Add({buffer.data(), n});
    if (copy != nullptr && !copy->write(buffer.data(), static_cast<std::streamsize>(n))) {
      return Internal("cannot write a copy of " + file.string() + ": " + std::strerror(errno));
    }
  }
  if (in.bad()) return Internal("cannot read " + file.string() + ": " + std::strerror(errno));
  return OkStatus();
}

void HashFileName(const fs::path& relative, Sha256& hash) {
  hash.Add(relative.string());
  hash.Add(std::string_view("\0", 1));
}

StatusOr<std::string> FolderHash(const fs::path& folder, const fs::path& exclude) {
  auto files = FolderFiles(folder, exclude);
  if (!files.ok()) return files.status();
  Sha256 hash;
  std::vector<char> buffer(kChunk);
  for (const auto& file : *files) {
    HashFileName(fs::relative(file, folder), hash);
    if (Status s = HashFile(file, hash, nullptr, buffer); !s.ok()) return s;
  }
  return hash.Hex().substr(0, kFolderHashDigits);
}

}  // namespace axon
