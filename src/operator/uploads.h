// A deploy's project folder sent along by the CLI, for an operator that cannot read the
// client's disk (one in a cluster): the body of POST /v1/deploy carries
// "files": {"RELATIVE/PATH": "BASE64 CONTENT", ...}, the files of the spec file's folder.
// WriteUpload() puts them into a new folder under `root`; the deploy then reads the spec's
// paths there (and copies the predictor's folder into a bundle), and the caller removes the
// folder. Thread-safe (each call writes a folder of its own).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::operator_ {

// kInvalidArgument names the bad entry (a path that is absolute or leaves the folder, content
// that is not base64); nothing is left behind on an error.
StatusOr<std::filesystem::path> WriteUpload(const std::filesystem::path& root,
                                            const nlohmann::json& files);

}  // namespace axon::operator_
