// Small file helpers. Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace axon {

StatusOr<std::string> ReadFile(const std::filesystem::path& path);
// Writes via a temporary file and rename, so readers never see a partial file.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                       std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_write |
                                                      std::filesystem::perms::group_read |
                                                      std::filesystem::perms::others_read);
// The last `max_lines` lines of a file (fewer if it is shorter), whole lines from its last
// 64 KiB only; "" when it does not exist.
std::string TailFile(const std::filesystem::path& path, size_t max_lines);
// The same for the first `end` bytes of `in` (a file opened in binary mode).
std::string TailText(std::istream& in, std::streamoff end, size_t max_lines);
// `n` random bytes from the kernel, hex-encoded.
std::string RandomHex(size_t n);

}  // namespace axon

namespace axon {

// Copy-truncate rotation: when `path` is larger than `max_bytes`, its content moves to
// path.1 (path.1 to path.2, ... up to `keep` files) and `path` is truncated in place, so
// processes appending to it (O_APPEND) keep writing without reopening.
void RotateIfLarger(const std::filesystem::path& path, uintmax_t max_bytes, int keep);

}  // namespace axon
