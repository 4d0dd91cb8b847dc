#include "operator/bundles.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/files.h"
#include "common/folder_hash.h"
#include "common/sha256.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;
constexpr std::string_view kPartialPrefix = ".partial-";

}  // namespace

fs::path SourceFolder(const spec::PredictorSpec& predictor) {
  if (predictor.type == "command") return predictor.path;
  if (!spec::IsNativeType(predictor.type)) return fs::path(predictor.path).parent_path();
  if (!predictor.multi_model.empty()) return predictor.path;  // the spec's folder
  const fs::path model(predictor.model.model_path);
  std::error_code ec;
  return fs::is_directory(model, ec) ? model : model.parent_path();
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
    HashFileName(relative, hash);
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
  return hash.Hex().substr(0, kFolderHashDigits);
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
