#include "operator/predictor_folder.h"

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

// Every regular file below `folder`, sorted, without hidden folders and __pycache__.
std::vector<std::filesystem::path> FolderFiles(const std::filesystem::path& folder) {
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
  return files;
}

}  // namespace

std::filesystem::path SourceFolder(const spec::PredictorSpec& predictor) {
  if (!spec::IsNativeType(predictor.type)) {
    return std::filesystem::path(predictor.path).parent_path();
  }
  const std::filesystem::path model(predictor.model.model_path);
  std::error_code ec;
  return std::filesystem::is_directory(model, ec) ? model : model.parent_path();
}

std::string ContentHash(const std::string& spec_text, const std::filesystem::path& folder) {
  Fnv1a hash;
  hash.Add(spec_text);
  const auto files = FolderFiles(folder);
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

Status SnapshotFolder(const std::filesystem::path& folder, const std::filesystem::path& snapshot) {
  std::error_code ec;
  if (std::filesystem::exists(snapshot, ec)) return OkStatus();
  const auto partial = snapshot.string() + ".partial";
  std::filesystem::remove_all(partial, ec);
  for (const auto& file : FolderFiles(folder)) {
    const auto target = std::filesystem::path(partial) / std::filesystem::relative(file, folder);
    std::filesystem::create_directories(target.parent_path(), ec);
    if (!std::filesystem::copy_file(file, target, ec)) {
      std::filesystem::remove_all(partial, ec);
      return Internal("cannot copy " + file.string() + " into a version snapshot: " + ec.message());
    }
  }
  std::filesystem::create_directories(partial, ec);  // an empty folder is a snapshot too
  std::filesystem::rename(partial, snapshot, ec);
  return ec ? Internal("cannot create snapshot " + snapshot.string() + ": " + ec.message())
            : OkStatus();
}

}  // namespace axon::operator_
