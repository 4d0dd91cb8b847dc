// The one parser of a model URL (spec/api_spec.h IsModelUrl: model_path of the form http://...
// or https://...), shared by the spec parser, which refuses a malformed one when the spec is
// read, and the operator, which downloads it (operator/model_download.h). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace axon {

struct ModelUrl {
  bool tls = false;  // https
  std::string host;
  uint16_t port = 0;      // 80 or 443 unless the URL names one
  std::string target;     // path and query, e.g. "/models/mlp.pt?sig=..."
  std::string file_name;  // the path's last segment, made safe for a file name
};

// Parses "http(s)://HOST[:PORT]/PATH[?QUERY]" where PATH names a file (does not end in '/').
// Errors (kInvalidArgument) say what is wrong, without repeating the URL.
StatusOr<ModelUrl> ParseModelUrl(std::string_view url);

}  // namespace axon
