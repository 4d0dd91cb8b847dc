#include "common/version.h"

#include "common/git_commit.h"  // generated at build time by cmake/GitCommit.cmake

namespace axon {

std::string_view Version() { return AXON_VERSION; }

std::string_view GitCommit() { return AXON_GIT_COMMIT; }

}  // namespace axon
