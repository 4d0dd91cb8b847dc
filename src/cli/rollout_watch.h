// What `axon deploy` shows after the operator accepted a deploy: each API's rollout (replicas
// of the new version ready / wanted, status) until every API is live, one fails, or the time
// is up. On a terminal the lines are redrawn in place; otherwise one line is printed per
// change. Single-threaded (the CLI's thread); blocks while it polls the operator.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/platform_client.h"

namespace axon::cli {

// One API's state as the watch shows it.
struct RolloutState {
  std::string api;
  std::string status;  // the operator's: live, updating, error, ... ("" until first seen)
  int64_t ready = 0;   // replicas of the current version that are ready
  int64_t wanted = 0;  // replicas requested
  bool splitter = false;
  std::string reason;  // why the API failed (status error)
  bool Done() const { return status == "live" || status == "error"; }
};

// "iris: 1/2 ready, updating", "iris: error: ...", "split: live" (a TrafficSplitter).
std::string RolloutLine(const RolloutState& state);

// Updates `states` from the operator's list of APIs (GET /v1/apis). An API that is missing
// from the list (deleted meanwhile) fails with a reason saying so.
void UpdateRollout(const nlohmann::json& apis, std::vector<RolloutState>& states);

// Polls until every API of `apis` is live or in error, or `timeout` passes. Throws CliError
// (exit code 1) naming the APIs that failed, with the operator's reason, or that were still
// rolling out at the deadline.
void WatchRollout(const PlatformClient& client, const std::vector<std::string>& apis,
                  std::chrono::milliseconds timeout, bool terminal, std::ostream& out);

}  // namespace axon::cli
