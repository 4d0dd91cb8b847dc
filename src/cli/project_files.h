// The files a deploy sends to an operator that cannot read this disk (any env but `local`,
// see operator/uploads.h): every regular file below the spec file's folder, except hidden
// files and folders (".git", ".venv", ...), as {"RELATIVE/PATH": "BASE64"}. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::cli {

// At most `max_bytes` of file content in all (the request must fit the operator's body limit);
// kInvalidArgument above that, naming the folder and its size.
StatusOr<nlohmann::json> ProjectFiles(const std::filesystem::path& folder, uint64_t max_bytes);

}  // namespace axon::cli
