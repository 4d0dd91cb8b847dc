// How a replica in a pod fetches its version's bundle (the predictor folder) from the
// operator's management API, over HTTP, without the platform token:
//   GET /v1/bundles/HASH               {"hash": HASH, "files": [{"path": relative, "size": n}]}
//   GET /v1/bundles/HASH/files/PATH    the file's bytes (PATH percent-encoded per segment)
// Both take `Authorization: Bearer BundleKey(token, HASH)`: a key that opens that one bundle
// and nothing else, so a replica (which runs user code) never holds the platform token. The
// replica checks what it fetched with FolderHash() (common/folder_hash.h) against HASH.
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "common/sha256.h"

namespace axon::contract {

inline constexpr char kBundlesPath[] = "/v1/bundles/";

inline std::string BundleKey(const std::string& token, const std::string& hash) {
  return Sha256Hex("axon-bundle\n" + token + "\n" + hash);
}

inline std::string BundleIndexTarget(const std::string& hash) { return kBundlesPath + hash; }

}  // namespace axon::contract
