// What the controller knows about one API at run time: its current version and spec, how many
// replicas it wants, and its autoscaler. Plain data owned by Controller (guarded by its mutex);
// what actually runs is the backend's (ApiBackend::Observe).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "operator/api_backend.h"
#include "operator/autoscaler.h"
#include "spec/api_spec.h"

namespace axon::operator_ {

struct ApiRuntime {
  spec::ApiSpec spec;
  int64_t version = 0;              // from the state store
  int64_t revision = 0;             // bumped by every new version and by `axon refresh`
  int64_t updated_at = 0;           // unix seconds
  std::string bundle;               // the bundle the version runs
  std::filesystem::path spec_file;  // the spec as JSON, for the replicas
  int64_t requested = 1;            // replicas wanted now: init_replicas, then the autoscaler's
  std::unique_ptr<Autoscaler> autoscaler;
  std::string last_scaling;             // the autoscaler's last decision and why
  std::vector<std::string> key_hashes;  // SHA-256 of the API's keys

  ApiTarget Target() const;
  // live | updating | error, from what the backend observes.
  std::string Status(const ApiObservation& observed) const;
};

}  // namespace axon::operator_
