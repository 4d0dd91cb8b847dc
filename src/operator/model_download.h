// model_path as a URL (spec/api_spec.h IsModelUrl): at deploy the operator downloads the one
// model file with a GET (http, or https with the server's certificate verified against the
// system's CAs; up to 5 redirects) into a folder of its own, and the version's bundle is made
// from that folder like any model folder. So a model reaches local replicas and cluster pods
// the same way, and a deploy to a cluster is not bounded by the upload limit. Every deploy
// downloads again: a changed file at the same URL makes a new bundle, the same file reuses it.
//
// The body is read whole into memory (as bundles are served): fine for models of a few hundred
// MB. Pure functions and blocking I/O; thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace axon::operator_ {

// Downloads `url` (common/model_url.h) to `folder`/its file name (creating `folder`) and
// returns the file's path. Errors name the URL (never a local path) and the HTTP status or
// network failure; a failed download writes no file.
StatusOr<std::filesystem::path> DownloadModel(const std::string& url,
                                              const std::filesystem::path& folder,
                                              std::chrono::milliseconds timeout);

}  // namespace axon::operator_
