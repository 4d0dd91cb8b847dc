// Bundles: content-addressed copies of predictor folders under $AXON_HOME/bundles/<hash>/, what
// each version runs. A bundle is named by the SHA-256 of its files (relative paths and
// contents; hidden entries, __pycache__ and the spec file being deployed left out), so a deploy
// that changes only the spec reuses the bundle it has, and APIs with the same folder share one. A
// bundle's content always matches its name: the name is computed from the copy itself.
//
// Threading: Add() and Collect() block on disk I/O (seconds for gigabytes) and must not run
// at the same time as each other (the controller runs both under its deploy mutex, never under
// its state mutex). Path() is a pure function.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "common/folder_hash.h"
#include "common/status.h"
#include "spec/api_spec.h"

namespace axon::operator_ {

// The folder a version snapshots: the Python predictor file's folder; for a command, the
// folder it runs in; for native types, model_path when it is a folder, else the model file's
// folder.
std::filesystem::path SourceFolder(const spec::PredictorSpec& predictor);

// A bundle's name is FolderHash() of its files (common/folder_hash.h).

class BundleStore {
 public:
  explicit BundleStore(std::filesystem::path root) : root_(std::move(root)) {}

  // The bundle holding `folder`'s files, made (copied) unless one with that content exists.
  // Errors name the file that could not be read or written (a full disk, say); nothing is
  // left behind by a failed copy.
  // `exclude` (the spec file, when it lies in the folder) is left out.
  StatusOr<std::string> Add(const std::filesystem::path& folder,
                            const std::filesystem::path& exclude = {});
  std::filesystem::path Path(const std::string& hash) const { return root_ / hash; }
  // Removes every bundle not in `keep`, and partial copies left by an interrupted Add().
  // Returns how many it removed.
  int Collect(const std::set<std::string>& keep);

 private:
  StatusOr<std::string> CopyHashing(const std::filesystem::path& folder,
                                    const std::filesystem::path& exclude,
                                    const std::filesystem::path& target);
  const std::filesystem::path root_;
};

}  // namespace axon::operator_
