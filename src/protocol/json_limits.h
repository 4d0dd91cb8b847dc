// Limits on JSON from clients, checked on the raw bytes before any parser builds a tree: a
// document nested deeper than a protocol can use is refused at once, so that no recursive code
// (tree walks, error messages, destructors) can run out of stack on it. Pure functions;
// thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace axon::protocol {

// The deepest nesting of arrays and objects in `json` (strings are skipped, escapes included).
// Counts only brackets; validity is the parser's business. Stops counting past `stop_at`.
int JsonNestingDepth(std::string_view json, int stop_at);

// InvalidArgument when `json` nests deeper than `max_depth`.
Status CheckJsonNesting(std::string_view json, int max_depth);

}  // namespace axon::protocol
