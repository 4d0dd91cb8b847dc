// A replica in a pod fetches its version's bundle from the operator before it loads the
// predictor (contract/bundles.h): the file list, then each file, into `into`; then it checks
// the folder's FolderHash() against the bundle's name. A folder that already holds the bundle
// (a restarted container keeps its emptyDir) is not fetched again.
//
// Blocking (network and disk I/O); thread-safe (no shared state).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace axon::replica {

struct BundleFetch {
  std::string url;   // the operator's management API as pods reach it: "http://HOST:PORT"
  std::string hash;  // the bundle's name
  std::string key;   // contract::BundleKey(token, hash)
  std::filesystem::path into;
  int attempts = 5;                           // unreachable operator: tries, 1 s apart, doubling
  std::chrono::milliseconds timeout{60'000};  // per request
};

Status FetchBundle(const BundleFetch& fetch);

}  // namespace axon::replica
