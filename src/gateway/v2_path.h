// The HTTP paths of the Open Inference Protocol, parsed. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace axon::gateway {

struct V2Path {
  enum Kind {
    kNone,            // under /v2 but not a path of the protocol
    kServerMetadata,  // GET /v2
    kLive,            // GET /v2/health/live
    kReady,           // GET /v2/health/ready
    kModelMetadata,   // GET /v2/models/NAME[/versions/V]
    kModelReady,      // GET /v2/models/NAME[/versions/V]/ready
    kInfer,           // POST /v2/models/NAME[/versions/V]/infer
  };
  Kind kind = kNone;
  std::string model;
  std::string version;  // "" when the path names none
};

// Whether `path` belongs to the protocol: "/v2" or anything under "/v2/".
bool IsV2Path(std::string_view path);
V2Path ParseV2Path(std::string_view path);

}  // namespace axon::gateway
