// ParsePredictor (declared in api_parser.h).
#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>

#include "spec/api_parser.h"
#include "spec/nearest_name.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSupportedTypes[] = {"python", "torchscript", "onnx", "xgboost",
                                                "command"};
constexpr std::string_view kLaterTypes[] = {"tensorflow"};

// Returns the type, or nullopt after an error.
std::optional<std::string> ParseType(const Field* field, int section_line, ErrorList& errors) {
  const std::string allowed = QuotedList(kSupportedTypes);
  if (field == nullptr) {
    errors.Add(section_line, "predictor.type", "is required; allowed types: " + allowed);
    return std::nullopt;
  }
  std::optional<std::string> type = ReadScalar(*field, "one of " + allowed, errors);
  if (!type) return std::nullopt;
  if (ContainsName(kSupportedTypes, *type)) return type;
  std::string message = "must be one of " + allowed + ", got " + Describe(field->value);
  if (ContainsName(kLaterTypes, *type)) {
    message = "\"" + *type + "\" predictors are not supported yet; allowed types: " + allowed;
  } else if (std::optional<std::string> near = NearestName(*type, kSupportedTypes)) {
    message += "; did you mean \"" + *near + "\"?";
  }
  errors.Add(field->line, field->path, message);
  return std::nullopt;
}

// Checks predictor.path and returns it as an absolute, normalized path.
std::optional<std::string> ParsePath(const Field& field, const fs::path& spec_dir,
                                     ErrorList& errors) {
  const char* kExpected = "a path to a Python file ending in \".py\"";
  std::optional<std::string> text = ReadScalar(field, kExpected, errors);
  if (!text) return std::nullopt;
  if (text->size() <= 3 || !text->ends_with(".py")) {
    errors.Add(field.line, field.path,
               "must be " + std::string(kExpected) + ", got " + Describe(field.value));
    return std::nullopt;
  }
  return ResolveRegularFile(field, *text, spec_dir, errors);
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

void ParseEnv(const Field& field, ErrorList& errors, std::map<std::string, std::string>* out) {
  const YAML::Node& node = field.value;
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    errors.Add(field.line, field.path,
               "must be a mapping of variable names to values, got " + Describe(node));
    return;
  }
  std::map<std::string, int> seen;
  for (const auto& entry : node) {
    const int line = LineOf(entry.first);
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    const std::string path = field.path + "." + key;
    if (!IsEnvName(key)) {
      errors.Add(line, field.path,
                 "variable names must be letters, digits and \"_\" and not start with a digit, "
                 "got " +
                     Describe(entry.first));
    } else if (auto [first, inserted] = seen.emplace(key, line); !inserted) {
      errors.Add(line, path,
                 "duplicate variable; first set on line " + std::to_string(first->second));
    } else if (entry.second.IsNull()) {
      (*out)[key] = "";
    } else if (entry.second.IsScalar()) {
      (*out)[key] = entry.second.Scalar();
    } else {
      errors.Add(line, path, "must be a string, number or boolean, got " + Describe(entry.second));
    }
  }
}

// Fields that belong to the other kind of predictor are reported, not ignored.
void RejectFields(const FieldMap& fields, std::span<const std::string_view> keys,
                  const std::string& why, ErrorList& errors) {
  for (std::string_view key : keys) {
    if (const Field* field = fields.Get(key)) errors.Add(field->line, field->path, why);
  }
}

// `models` is also a native predictor's, as a mapping of many models of its type.
constexpr std::string_view kPythonOnlyFields[] = {"path", "config", "dependencies"};
constexpr std::string_view kNativeOnlyFields[] = {"model_path", "model_version", "inputs",
                                                  "outputs"};
constexpr std::string_view kCommandOnlyFields[] = {"command", "port", "readiness_path", "image"};
// What a command predictor cannot have: the server is the user's own.
constexpr std::string_view kNotForCommand[] = {
    "models", "config",  "dependencies",         "model_path",      "model_version",
    "inputs", "outputs", "server_side_batching", "intra_op_threads"};
constexpr char kCommandOnlyWhy[] =
    "is for command predictors (type: command), which run a server of your own";

}  // namespace

std::optional<std::string> ResolveRegularFile(const Field& field, const std::string& text,
                                              const fs::path& spec_dir, ErrorList& errors) {
  fs::path path(text);
  if (path.is_relative()) path = spec_dir / path;
  path = path.lexically_normal();
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    errors.Add(field.line, field.path,
               "file not found: " + path.string() +
                   " (relative paths are resolved against the spec file's folder, " +
                   spec_dir.string() + ")");
    return std::nullopt;
  }
  if (!fs::is_regular_file(status)) {
    errors.Add(field.line, field.path,
               "must be a regular file, but " + path.string() + " is not (a folder?)");
    return std::nullopt;
  }
  return path.string();
}

void ParsePredictor(const Field* section, int api_line, const fs::path& spec_dir, ErrorList& errors,
                    PredictorSpec* out) {
  if (section == nullptr) {
    errors.Add(api_line, "predictor",
               "is required: a mapping with at least type and path (Python) or model_path, e.g. "
               "{type: python, path: predictor.py} or {type: onnx, model_path: model.onnx}");
    return;
  }
  FieldMap fields(section->value, section->path, section->line, SchemaFor("predictor"), errors);
  if (!fields.ok()) return;
  std::optional<std::string> type = ParseType(fields.Get("type"), section->line, errors);
  if (type) out->type = *type;
  if (type && *type != "command") RejectFields(fields, kCommandOnlyFields, kCommandOnlyWhy, errors);
  if (type && *type == "command") {
    RejectFields(fields, kNotForCommand,
                 "is not for command predictors: the command's server does its own work (with "
                 "env for its settings)",
                 errors);
    ParseCommand(fields, section->line, spec_dir, errors, out);
  } else if (type && IsNativeType(*type)) {
    RejectFields(fields, kPythonOnlyFields,
                 "is for Python predictors; this " + *type +
                     " predictor serves model_path directly (to add Python code, use type: "
                     "python with models: [{name, type: " +
                     *type + ", model_path}])",
                 errors);
    if (const Field* models = fields.Get("models")) {
      ParseNativeMultiModel(fields, *models, *type, spec_dir, errors, out);
    } else {
      ParseNativeModel(fields, section->line, *type, spec_dir, errors, &out->model);
    }
  } else if (type) {
    RejectFields(fields, kNativeOnlyFields,
                 "is for native predictor types (torchscript, onnx, xgboost); a Python "
                 "predictor names its native models under models: [{name, type, model_path}]",
                 errors);
    if (const Field* path = fields.Get("path")) {
      if (std::optional<std::string> resolved = ParsePath(*path, spec_dir, errors)) {
        out->path = *resolved;
      }
    } else {
      errors.Add(section->line, "predictor.path",
                 "is required: the Python file that defines class PythonPredictor, e.g. "
                 "\"predictor.py\"");
    }
    if (const Field* models = fields.Get("models")) {
      if (models->value.IsMap()) {
        ParseMultiModel(*models, spec_dir, errors, &out->multi_model);
      } else {
        ParseModels(*models, spec_dir, errors, &out->models);
      }
    }
    if (const Field* dependencies = fields.Get("dependencies")) {
      ParseDependencies(*dependencies, spec_dir, out->path, errors, &out->dependencies);
    }
  }
  if (const Field* config = fields.Get("config");
      config != nullptr && (!type || *type == "python")) {
    if (config->value.IsDefined() && !config->value.IsNull() && !config->value.IsMap()) {
      errors.Add(config->line, config->path,
                 "must be a mapping (it reaches the predictor as a JSON object), got " +
                     Describe(config->value));
    } else if (std::optional<nlohmann::json> json = YamlToJson(*config, errors)) {
      if (json->is_object()) out->config = std::move(*json);
    }
  }
  if (const Field* env = fields.Get("env")) ParseEnv(*env, errors, &out->env);
  if (const Field* threads = fields.Get("threads_per_process")) {
    if (std::optional<int64_t> n = ReadInt(*threads, 1, 256, errors)) {
      out->threads_per_process = static_cast<int>(*n);
    }
  }
  if (const Field* threads = fields.Get("intra_op_threads"); threads && type != "command") {
    if (std::optional<int64_t> n = ReadInt(*threads, 1, 64, errors)) {
      out->intra_op_threads = static_cast<int>(*n);
    }
  }
  if (const Field* batching = fields.Get("server_side_batching"); batching && type != "command") {
    ParseBatching(*batching, errors, &out->server_side_batching);
  }
}

}  // namespace axon::spec
