// The dashboard's files (src/operator/dashboard/), compiled into the operator by
// cmake/EmbedFiles.cmake. Static data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace axon::operator_ {

struct DashboardAsset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view content;
};

std::span<const DashboardAsset> DashboardAssets();

}  // namespace axon::operator_
