// TrafficSplitters in the control plane: the checks a deploy and a delete make, a splitter's
// status, and what it puts in the route table and in `axon get`. A splitter runs no replicas:
// the controller keeps it like any API (versions, state store) but never hands it to the
// backend or the autoscaler.
//
// Pure functions over the controller's state; the caller holds the controller's lock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "contract/routes.h"
#include "operator/api_runtime.h"

namespace axon::operator_ {

// Checks a deploy of `apis` (every API of `file`) against the APIs deployed now: no API changes
// kind, and every API a splitter names is a RealtimeAPI of the file or one already deployed.
// Errors read like the parser's: FILE:LINE: api "NAME": apis[1].name: ...
Status CheckSplitters(const std::vector<spec::ApiSpec>& apis,
                      const std::map<std::string, ApiRuntime>& deployed, const std::string& file);

// The splitters among `apis` that send requests to `name` (which must not be deleted first).
std::vector<std::string> SplittersUsing(const std::map<std::string, ApiRuntime>& apis,
                                        const std::string& name);

// A splitter is live while every API it names is deployed; otherwise error, with the reason.
struct SplitterState {
  std::string status;
  std::string reason;
};
SplitterState SplitterStatus(const spec::ApiSpec& splitter,
                             const std::map<std::string, ApiRuntime>& apis);

// Fills the route's split entries from the splitter's spec.
void AddSplit(const spec::ApiSpec& splitter, contract::ApiRoute* route);

// [{"name", "weight", "shadow"}] for the views.
nlohmann::json SplitTargetsJson(const spec::ApiSpec& splitter);

}  // namespace axon::operator_
