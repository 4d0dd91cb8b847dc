#include "common/status.h"

#include <cstdio>
#include <cstdlib>

namespace axon {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kResourceExhausted:
      return 503;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

namespace internal {

void DieOnBadAccess(const Status& status) {
  std::fprintf(stderr, "StatusOr::value() on an error: %s\n", status.message().c_str());
  std::abort();
}

}  // namespace internal
}  // namespace axon
