// What a model's name may be when an API serves many models: it travels in query strings
// (?model=NAME) and paths (/<endpoint>/NAME), and names folders of predictor.models.dir.
// The spec parser and the gateway share this one rule.
#pragma once

#include <string_view>

namespace axon {

// Letters, digits, "-", "_" and "." (not first), 1 to 128 characters.
bool IsModelName(std::string_view name);

}  // namespace axon
