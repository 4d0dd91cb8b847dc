#include "common/axon_home.h"

#include <cstdlib>

namespace axon {

AxonHome AxonHome::FromEnvironment() {
  if (const char* env = std::getenv("AXON_HOME"); env != nullptr && *env != '\0') {
    return {std::filesystem::absolute(env)};
  }
  const char* home = std::getenv("HOME");
  return {std::filesystem::path(home != nullptr ? home : "/tmp") / ".axon"};
}

}  // namespace axon
