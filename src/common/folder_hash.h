// The content hash of a folder, as bundles are named: SHA-256 (first 32 hex digits) over every
// regular file below the folder, in sorted order, each as its relative path, a NUL byte, then
// its contents. Hidden entries, __pycache__ and one excluded file are left out. Used by the
// operator (naming bundles) and by a replica that fetched a bundle (checking what it got).
//
// Thread-safe (no shared state); blocks on disk I/O.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "common/status.h"

namespace axon {

inline constexpr size_t kFolderHashDigits = 32;

// Every regular file below `folder`, sorted, without hidden entries, __pycache__ and `exclude`.
StatusOr<std::vector<std::filesystem::path>> FolderFiles(const std::filesystem::path& folder,
                                                         const std::filesystem::path& exclude = {});

// Adds `file`'s contents to `hash` (and copies them to `copy` when it is not null).
// `buffer` is scratch space (its size is the read size).
Status HashFile(const std::filesystem::path& file, Sha256& hash, std::ofstream* copy,
                std::vector<char>& buffer);

// Adds one file's entry (relative path, NUL) to `hash`; the contents follow (HashFile).
void HashFileName(const std::filesystem::path& relative, Sha256& hash);

StatusOr<std::string> FolderHash(const std::filesystem::path& folder,
                                 const std::filesystem::path& exclude = {});

}  // namespace axon
