#include "operator/bundles.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/files.h"
#include "common/sha256.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHashDigits = 32;
constexpr size_t kChunk = 1 << 20;
constexpr std::string_view kPartialPrefix = ".partial-";

bool Skipped(const fs::path& name) {
  const std::string s = name.filename().string();
  return s == "__pycache__" || (s.size() > 1 && s[0] == '.');
}

// Every regular file below `folder`, sorted, without hidden entries, __pycache__ and `exclude`.
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

// Hashes `file` into `hash` (and copies it to `copy` when that is open).
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

}  // namespace

fs::path SourceFolder(const spec::PredictorSpec& predictor) {
  if (predictor.type == "command") return predictor.path;
  if (!spec::IsNativeType(predictor.type)) return fs::path(predictor.path).parent_path();
  const fs::path model(predictor.model.model_path);
  std::error_code ec;
  return fs::is_directory(model, ec) ? model : model.parent_path();
}

StatusOr<std::string> FolderHash(const fs::path& folder, const fs::path& exclude) {
  auto files = FolderFiles(folder, exclude);
  if (!files.ok()) return files.status();
  Sha256 hash;
  std::vector<char> buffer(kChunk);
  for (const auto& file : *files) {
    const std::string relative = fs::relative(file, folder).string();
    hash.Add(relative);
    hash.Add(std::string_view("\0", 1));
    if (Status s = HashFile(file, hash, nullptr, buffer); !s.ok()) return s;
  }
  return hash.Hex().substr(0, kHashDigits);
}

StatusOr<std::string> BundleStore::CopyHashing(const fs::path& folder, const fs::path& exclude,
                                               const fs::path& target) {
  auto files = FolderFiles(folder, exclude);
  if (!files.ok()) return files.status();
  Sha256 hash;
  std::vector<char> buffer(kChunk);
  std::error_code ec;
  fs::create_directories(target, ec);  // an empty folder is a bundle too
  if (ec) return Internal("cannot create " + target.string() + ": " + ec.message());
  for (const auto& file : *files) {
    const fs::path relative = fs::relative(file, folder);
    hash.Add(relative.string());
    hash.Add(std::string_view("\0", 1));
    const fs::path copy_path = target / relative;
    fs::create_directories(copy_path.parent_path(), ec);
    std::ofstream copy(copy_path, std::ios::binary | std::ios::trunc);
    if (!copy) return Internal("cannot write " + copy_path.string() + ": " + std::strerror(errno));
    if (Status s = HashFile(file, hash, &copy, buffer); !s.ok()) return s;
    copy.close();
    if (!copy) {
      return Internal("cannot write a copy of " + file.string() + ": " + std::strerror(errno));
    }
    fs::permissions(copy_path, fs::status(file, ec).permissions(), ec);
  }
  return hash.Hex().substr(0, kHashDigits);
}

StatusOr<std::string> BundleStore::Add(const fs::path& folder, const fs::path& exclude) {
  auto source_hash = FolderHash(folder, exclude);
  if (!source_hash.ok()) return source_hash.status();
  std::error_code ec;
  if (fs::is_directory(Path(*source_hash), ec)) return source_hash;
  const fs::path partial = root_ / (std::string(kPartialPrefix) + RandomHex(6));
  auto copied = CopyHashing(folder, exclude, partial);
  if (!copied.ok()) {
    fs::remove_all(partial, ec);
    return Internal(copied.status().message() + "; the deploy was not applied");
  }
  // The files may have changed since they were hashed: the copy's own hash names it.
  if (fs::is_directory(Path(*copied), ec)) {
    fs::remove_all(partial, ec);
    return copied;
  }
  fs::rename(partial, Path(*copied), ec);
  if (ec) {
    fs::remove_all(partial, ec);
    return Internal("cannot create bundle " + Path(*copied).string() + ": " + ec.message());
  }
  return copied;
}

int BundleStore::Collect(const std::set<std::string>& keep) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (keep.contains(name)) continue;
    std::error_code remove_ec;
    fs::remove_all(entry.path(), remove_ec);
    if (!remove_ec) ++removed;
  }
  return removed;
}

}  // namespace axon::operator_
