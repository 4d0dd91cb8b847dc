// Serves bundles to replicas in pods (contract/bundles.h): a bundle's file list and its files,
// each request authorized by that bundle's key, never by the platform token. Only files that
// FolderFiles() lists in the bundle are served (no path is joined from the request).
//
// Threading: any thread; blocks on disk I/O (reads the whole file into the answer).
#pragma once

#include <string>
#include <string_view>

#include "http/beast.h"
#include "operator/bundles.h"

namespace axon::operator_ {

// `rest` is the request path after contract::kBundlesPath ("HASH" or "HASH/files/PATH").
http::Response ServeBundle(const BundleStore& bundles, const std::string& token,
                           const http::Request& request, std::string_view rest);

}  // namespace axon::operator_
