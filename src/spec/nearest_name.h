// "Did you mean ...?" suggestions for misspelled field names and values. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace axon::spec {

// Levenshtein edit distance (insertions, deletions and substitutions each cost 1).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `got`, if it is close enough to be a likely typo: edit distance <= 2,
// or one is a prefix of the other. Ties go to the earlier candidate. Comparison ignores case.
std::optional<std::string> NearestName(std::string_view got,
                                       std::span<const std::string_view> candidates);

// Whether `name` is one of `names` (exact match).
bool ContainsName(std::span<const std::string_view> names, std::string_view name);

// `"a", "b", "c"`: for messages that list what is allowed.
std::string QuotedList(std::span<const std::string_view> names);

}  // namespace axon::spec
