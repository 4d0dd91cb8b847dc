// What a deploy runs is the spec plus the predictor's folder (a Python predictor's folder, or a
// native model's folder). These functions fingerprint
// that folder (to tell changed from unchanged deploys) and copy it into a snapshot (so that a
// version keeps running the code it was deployed with). Hidden folders and __pycache__ are
// left out of both. Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"
#include "spec/api_spec.h"

namespace axon::operator_ {

// The folder a version snapshots: the Python predictor file's folder; for native types,
// model_path when it is a folder, else the model file's folder.
std::filesystem::path SourceFolder(const spec::PredictorSpec& predictor);

// FNV-1a (64 bit) over `spec_text` and every file below `folder` (path and contents),
// hex-encoded.
std::string ContentHash(const std::string& spec_text, const std::filesystem::path& folder);

// Copies every file below `folder` into `snapshot` (created; left alone if it exists, since
// snapshots are named by content hash).
Status SnapshotFolder(const std::filesystem::path& folder, const std::filesystem::path& snapshot);

}  // namespace axon::operator_
