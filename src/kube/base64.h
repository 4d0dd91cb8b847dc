// Standard base64 (RFC 4648 with padding), as in kubeconfig *-data fields and Secret data.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace axon::kube {

std::string EncodeBase64(std::string_view data);
// Whitespace is ignored; other characters outside the alphabet and bad padding are errors.
StatusOr<std::string> DecodeBase64(std::string_view text);

}  // namespace axon::kube
