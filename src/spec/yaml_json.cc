// YamlToJson (declared in yaml_fields.h): YAML 1.2 core-schema resolution of plain scalars.
#include <charconv>
#include <set>

#include "spec/quantity.h"
#include "spec/yaml_fields.h"

namespace axon::spec {
namespace {

bool IsOneOf(const std::string& s, std::initializer_list<std::string_view> options) {
  for (std::string_view option : options) {
    if (s == option) return true;
  }
  return false;
}

// "0x1F" or "0o17" as an integer; nullopt otherwise.
std::optional<int64_t> ParseRadixInteger(const std::string& s) {
  if (s.size() < 3 || s[0] != '0') return std::nullopt;
  int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 0;
  if (base == 0) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Integers too large for int64_t but within uint64_t.
std::optional<uint64_t> ParseUnsigned(std::string s) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// The JSON value of a scalar; sets `non_finite` for .inf and .nan, which JSON cannot hold.
nlohmann::json ResolveScalar(const YAML::Node& node, bool* non_finite) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;
  if (IsOneOf(s, {"true", "True", "TRUE"})) return true;
  if (IsOneOf(s, {"false", "False", "FALSE"})) return false;
  if (std::optional<int64_t> i = ParseInteger(s)) return *i;
  if (std::optional<uint64_t> u = ParseUnsigned(s)) return *u;
  if (std::optional<int64_t> r = ParseRadixInteger(s)) return *r;
  if (std::optional<double> d = ParseNumber(s)) return *d;
  if (IsOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                  ".nan", ".NaN", ".NAN"})) {
    *non_finite = true;
  }
  return s;
}

// The most values one conversion produces, counting each use of an alias (*name) anew: a few
// lines of nested aliases would otherwise expand to billions of values.
constexpr size_t kMaxValues = 100'000;
// The deepest nesting accepted: an alias used inside its own anchor (&a {x: *a}) nests forever.
constexpr int kMaxDepth = 64;

bool Convert(const YAML::Node& node, const std::string& path, int line, ErrorList& errors,
             size_t& values_left, int depth, nlohmann::json* out);

bool ConvertMap(const YAML::Node& node, const std::string& path, ErrorList& errors,
                size_t& values_left, int depth, nlohmann::json* out) {
  *out = nlohmann::json::object();
  bool ok = true;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const int line = LineOf(entry.first);
    if (!entry.first.IsScalar()) {
      errors.Add(line, path, "keys must be strings or numbers, got " + Describe(entry.first));
      ok = false;
      continue;
    }
    const std::string& key = entry.first.Scalar();
    const std::string child = path + "." + key;
    if (!seen.insert(key).second) {
      errors.Add(line, child, "duplicate key");
      ok = false;
      continue;
    }
    ok = Convert(entry.second, child, line, errors, values_left, depth, &(*out)[key]) && ok;
  }
  return ok;
}

bool Convert(const YAML::Node& node, const std::string& path, int line, ErrorList& errors,
             size_t& values_left, int depth, nlohmann::json* out) {
  if (values_left == 0 || --values_left == 0) return false;  // YamlToJson reports it
  if (++depth > kMaxDepth) {
    errors.Add(line, path,
               "nests more than " + std::to_string(kMaxDepth) +
                   " levels deep; an alias used inside its own anchor (&a {x: *a}) never ends");
    values_left = 0;  // stop the whole conversion: every level above would report it again
    return false;
  }
  if (!node.IsDefined() || node.IsNull()) {
    *out = nullptr;
    return true;
  }
  if (node.IsScalar()) {
    bool non_finite = false;
    *out = ResolveScalar(node, &non_finite);
    if (non_finite) {
      errors.Add(line, path,
                 "infinity and NaN cannot be represented in JSON; quote it to pass a "
                 "string, got " +
                     Describe(node));
    }
    return !non_finite;
  }
  if (node.IsMap()) return ConvertMap(node, path, errors, values_left, depth, out);
  *out = nlohmann::json::array();
  bool ok = true;
  size_t index = 0;
  for (const YAML::Node& item : node) {
    const int item_line = LineOf(item) > 0 ? LineOf(item) : line;
    const std::string child = path + "[" + std::to_string(index++) + "]";
    nlohmann::json value;
    ok = Convert(item, child, item_line, errors, values_left, depth, &value) && ok;
    out->push_back(std::move(value));
  }
  return ok;
}

}  // namespace

std::optional<nlohmann::json> YamlToJson(const Field& field, ErrorList& errors) {
  nlohmann::json out;
  size_t values_left = kMaxValues + 1;  // the first value over the limit ends the conversion
  const size_t errors_before = errors.size();
  const bool ok = Convert(field.value, field.path, field.line, errors, values_left, 0, &out);
  if (values_left == 0) {  // too many values, or too deep (already reported)
    if (errors.size() != errors_before) return std::nullopt;
    errors.Add(field.line, field.path,
               "holds more than " + std::to_string(kMaxValues) +
                   " values (each use of an alias, *name, counts anew); make it smaller");
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace axon::spec
