#include "spec/yaml_fields.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "spec/nearest_name.h"
#include "spec/quantity.h"

namespace axon::spec {

void ErrorList::Add(int line, std::string field, std::string message) {
  out_->push_back(SpecError{file_, line, api_, std::move(field), std::move(message)});
}

int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

namespace {

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

}  // namespace

FieldMap::FieldMap(const YAML::Node& node, const std::string& path, int line,
                   const MapSchema& schema, ErrorList& errors) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    ok_ = false;
    errors.Add(
        line, path,
        "must be a mapping with fields " + QuotedList(schema.fields) + ", got " + Describe(node));
    return;
  }
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      errors.Add(LineOf(key), path, "field names must be plain strings, got " + Describe(key));
      continue;
    }
    Field field{Join(path, key.Scalar()), LineOf(key), entry.second};
    if (const Field* first = Get(key.Scalar())) {
      errors.Add(field.line, field.path,
                 "duplicate field; first set on line " + std::to_string(first->line));
      continue;
    }
    if (!ContainsName(schema.fields, key.Scalar())) {
      ReportUnknown(key.Scalar(), field, schema, errors);
      continue;
    }
    fields_.emplace_back(key.Scalar(), std::move(field));
  }
}

const Field* FieldMap::Get(std::string_view key) const {
  for (const auto& [name, field] : fields_) {
    if (name == key) return &field;
  }
  return nullptr;
}

void FieldMap::ReportUnknown(std::string_view key, const Field& field, const MapSchema& schema,
                             ErrorList& errors) const {
  const std::string allowed = QuotedList(schema.fields);
  if (ContainsName(schema.unsupported, key)) {
    errors.Add(field.line, field.path, "not supported yet; supported fields here: " + allowed);
    return;
  }
  std::string home = schema.home_of ? schema.home_of(key) : "";
  if (!home.empty()) {
    errors.Add(field.line, field.path, "unknown field here; it belongs at \"" + home + "\"");
    return;
  }
  if (std::optional<std::string> near = NearestName(key, schema.fields)) {
    errors.Add(field.line, field.path, "unknown field; did you mean \"" + *near + "\"?");
    return;
  }
  errors.Add(field.line, field.path, "unknown field; allowed fields: " + allowed);
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  const std::string& text = node.Scalar();
  if (node.Tag() == "?" && ParseNumber(text)) return text;
  std::string out = "\"";
  size_t count = 0;
  for (char c : text) {
    // Cut only before a character, never inside one's UTF-8 sequence.
    if (++count > 60 && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::optional<std::string> ReadScalar(const Field& field, std::string_view expected,
                                      ErrorList& errors) {
  if (field.value.IsScalar()) return field.value.Scalar();
  errors.Add(field.line, field.path,
             "must be " + std::string(expected) + ", got " + Describe(field.value));
  return std::nullopt;
}

std::optional<bool> ReadBool(const Field& field, ErrorList& errors) {
  std::optional<std::string> text = ReadScalar(field, "true or false", errors);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  errors.Add(field.line, field.path, "must be true or false, got " + Describe(field.value));
  return std::nullopt;
}

std::optional<int64_t> ReadInt(const Field& field, int64_t min, int64_t max, ErrorList& errors) {
  std::string expected = "an integer >= " + std::to_string(min);
  if (max != std::numeric_limits<int64_t>::max()) {
    expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  std::optional<std::string> text = ReadScalar(field, expected, errors);
  if (!text) return std::nullopt;
  std::optional<int64_t> value = ParseInteger(*text);
  if (!value || *value < min || *value > max) {
    errors.Add(field.line, field.path, "must be " + expected + ", got " + Describe(field.value));
    return std::nullopt;
  }
  return value;
}

bool NumberRange::Contains(double v) const {
  bool above = min_inclusive ? v >= min : v > min;
  bool below = max_inclusive ? v <= max : v < max;
  return above && below;
}

namespace {

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string NumberRange::ToString() const {
  std::string low, high;
  if (min != -std::numeric_limits<double>::infinity()) {
    low = (min_inclusive ? ">= " : "> ") + FormatNumber(min);
  }
  if (max != std::numeric_limits<double>::infinity()) {
    high = (max_inclusive ? "<= " : "< ") + FormatNumber(max);
  }
  if (!low.empty() && !high.empty()) return low + " and " + high;
  return low + high;
}

std::optional<double> ReadNumber(const Field& field, const NumberRange& range, ErrorList& errors) {
  const std::string expected = "a number " + range.ToString();
  std::optional<std::string> text = ReadScalar(field, expected, errors);
  if (!text) return std::nullopt;
  std::optional<double> value = ParseNumber(*text);
  if (!value || !range.Contains(*value)) {
    errors.Add(field.line, field.path, "must be " + expected + ", got " + Describe(field.value));
    return std::nullopt;
  }
  return value;
}

}  // namespace axon::spec
