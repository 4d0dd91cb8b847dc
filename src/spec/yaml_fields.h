// Building blocks for reading a YAML spec with precise errors: an error list that knows the file
// and API being parsed, a checked view of a mapping's fields (unknown, misplaced and duplicate keys
// are reported with suggestions), typed value readers, and YAML-to-JSON conversion.
//
// Internal to the spec library. Not thread-safe: one ErrorList per parse, on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "spec/spec_parser.h"

namespace axon::spec {

// Collects the errors of one file. Does not own `out`, which must outlive it.
class ErrorList {
 public:
  ErrorList(std::string file, std::vector<SpecError>* out) : file_(std::move(file)), out_(out) {}
  // Names the API that later errors belong to: its name, or "#N" when the name is unusable.
  void SetApi(std::string api) { api_ = std::move(api); }
  void Add(int line, std::string field, std::string message);
  size_t size() const { return out_->size(); }

 private:
  std::string file_;
  std::string api_;
  std::vector<SpecError>* out_;
};

// The 1-based line where `node` starts (0 if yaml-cpp does not know).
int LineOf(const YAML::Node& node);

// One "key: value" entry of a mapping.
struct Field {
  std::string path;  // dotted, e.g. "autoscaling.window"
  int line = 0;      // line of the key
  YAML::Node value;
};

// What a mapping may contain.
struct MapSchema {
  std::span<const std::string_view> fields;       // allowed keys
  std::span<const std::string_view> unsupported;  // known Cortex keys that axon lacks (for now)
  // For an unknown key: its full path if it belongs elsewhere ("autoscaling.min_replicas"),
  // or "" if it is not known anywhere.
  std::function<std::string(std::string_view key)> home_of;
};

// A mapping checked against a schema. A null node counts as an empty mapping (all defaults).
class FieldMap {
 public:
  // `path` is the dotted path of the mapping ("" for the API itself); `line` is where it is
  // declared, used when the node is of the wrong type.
  FieldMap(const YAML::Node& node, const std::string& path, int line, const MapSchema& schema,
           ErrorList& errors);
  // False when the node was not a mapping (an error has been reported).
  bool ok() const { return ok_; }
  // The field named `key`, or nullptr when absent. Duplicates were reported; the first one wins.
  const Field* Get(std::string_view key) const;

 private:
  void ReportUnknown(std::string_view key, const Field& field, const MapSchema& schema,
                     ErrorList& errors) const;

  bool ok_ = true;
  std::vector<std::pair<std::string, Field>> fields_;
};

// For messages: `"abc"`, `42`, `a list`, `a mapping` or `nothing`.
std::string Describe(const YAML::Node& node);

// The scalar text of `field`; reports "must be <expected>, got ..." when it is not a scalar.
std::optional<std::string> ReadScalar(const Field& field, std::string_view expected,
                                      ErrorList& errors);
// true or false (YAML 1.2's spellings: true, True, TRUE, false, False, FALSE).
std::optional<bool> ReadBool(const Field& field, ErrorList& errors);
// An integer in [min, max].
std::optional<int64_t> ReadInt(const Field& field, int64_t min, int64_t max, ErrorList& errors);

// A range of allowed numbers, e.g. (0, 1) or [0, inf).
struct NumberRange {
  double min = -std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  double max = std::numeric_limits<double>::infinity();
  bool max_inclusive = true;
  bool Contains(double v) const;
  std::string ToString() const;  // e.g. "> 0 and < 1"
};
std::optional<double> ReadNumber(const Field& field, const NumberRange& range, ErrorList& errors);

// A scalar parsed by `parse`, whose error message says what is allowed; "got ..." is appended.
template <typename T>
std::optional<T> ReadParsed(const Field& field, std::string_view expected,
                            StatusOr<T> (*parse)(std::string_view), ErrorList& errors) {
  std::optional<std::string> text = ReadScalar(field, expected, errors);
  if (!text) return std::nullopt;
  StatusOr<T> value = parse(*text);
  if (!value.ok()) {
    errors.Add(field.line, field.path, value.status().message() + ", got " + Describe(field.value));
    return std::nullopt;
  }
  return std::move(value).value();
}

// Converts any YAML value to JSON: plain scalars resolve as in YAML 1.2 (null, true/false,
// integers, floats; anything else is a string), quoted scalars stay strings. Reports keys that
// are not scalars, duplicate keys and non-finite numbers at `field`'s path; nullopt on error.
std::optional<nlohmann::json> YamlToJson(const Field& field, ErrorList& errors);

}  // namespace axon::spec
