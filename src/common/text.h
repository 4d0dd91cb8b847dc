// Small text helpers shared by the operator and the CLI. Pure functions; thread-safe.
#pragma once

#include <string>

namespace axon {

// The text up to its first '\n' (all of it when it has none): the one-line reason of a
// multi-line error.
inline std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace axon
