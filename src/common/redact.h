// What an error may say to a client. Runtime and predictor errors can carry server paths
// (snapshot folders, model files) and tracebacks; clients get a short message, and the detail
// goes to the API's log under the request id. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace axon {

// One line for a client: the last line of a traceback ("RuntimeError: ..."), else the first
// line; absolute paths replaced by "<path>"; at most 400 characters.
std::string PublicMessage(std::string_view detail);

}  // namespace axon
