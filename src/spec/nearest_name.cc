#include "spec/nearest_name.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace axon::spec {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> NearestName(std::string_view got,
                                       std::span<const std::string_view> candidates) {
  const std::string needle = Lower(got);
  if (needle.empty()) return std::nullopt;
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    const std::string lower = Lower(candidate);
    size_t distance = EditDistance(needle, lower);
    bool prefix = lower.starts_with(needle) || needle.starts_with(lower);
    if (distance > 2 && !prefix) continue;
    if (!best || distance < best_distance) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  return best;
}

bool ContainsName(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string QuotedList(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += '"';
    out += name;
    out += '"';
  }
  return out;
}

}  // namespace axon::spec
