// The path form of an API that serves many models (contract::ApiRoute::many_models): a request
// to /<endpoint>/<model>[?query] is one to /<endpoint>?model=<model>[&query], as Cortex's users
// call such APIs. Pure functions of the route table; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "gateway/route_table.h"

namespace axon::gateway {

struct ModelPathMatch {
  const ApiRoute* api = nullptr;  // the API; nullptr when the target is not of the path form
  std::string target;             // the request's target with the model in the query
  int status = 0;                 // non-zero: the request is refused with `error`
  std::string error;
};

// `target` is a request's whole target (path and query). An exact endpoint, or
// /<endpoint>/metadata, is matched before this is asked (they keep their meaning). The
// result's `api` points into `table`.
ModelPathMatch MatchModelPath(const RouteTable& table, std::string_view target);

}  // namespace axon::gateway
