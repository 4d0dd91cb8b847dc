// A stable fingerprint of what a deploy would run: the spec and the predictor's files.
// Pure function; thread-safe.
#pragma once

#include <filesystem>
#include <string>

namespace axon::operator_ {

// FNV-1a (64 bit) over `spec_text` and every regular file below `folder` (path and
// contents), skipping hidden folders and __pycache__. Hex-encoded.
std::string ContentHash(const std::string& spec_text, const std::filesystem::path& folder);

}  // namespace axon::operator_
