// The version of this build of Axon and the git commit it was built from, the same in every
// Axon program of one build. Thread-safe (constants).
#pragma once

#include <string_view>

namespace axon {

// The release version, "0.1.0" (CMakeLists.txt's project version).
std::string_view Version();

// The commit the sources were built from: 40 hex digits, with "-dirty" when tracked files had
// uncommitted changes; "unknown" for a source tree without git history (cmake/GitCommit.cmake).
std::string_view GitCommit();

}  // namespace axon
