#include "operator/api_runtime.h"

namespace axon::operator_ {

ApiTarget ApiRuntime::Target() const {
  return {.api = spec.name,
          .version = version,
          .revision = revision,
          .spec = spec,
          .spec_file = spec_file,
          .bundle = bundle,
          .replicas = requested};
}

std::string ApiRuntime::Status(const ApiObservation& observed) const {
  if (!observed.error.empty()) return "error";
  return observed.ReadyCurrent() >= requested && observed.Outdated() == 0 ? "live" : "updating";
}

}  // namespace axon::operator_
