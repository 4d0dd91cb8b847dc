// ParseCommand (declared in api_parser.h): the fields of a command predictor.
#include <system_error>

#include "spec/api_parser.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr char kCommandExample[] = "e.g. [python3, server.py]";

void ParseArgv(const Field* field, int section_line, ErrorList& errors,
               std::vector<std::string>* out) {
  if (field == nullptr) {
    errors.Add(section_line, "predictor.command",
               std::string("is required: the program that serves HTTP on $AXON_PORT and its "
                           "arguments, ") +
                   kCommandExample);
    return;
  }
  const YAML::Node& node = field->value;
  if (!node.IsSequence() || node.size() == 0) {
    errors.Add(field->line, field->path,
               std::string("must be a non-empty list: the program and its arguments, ") +
                   kCommandExample + ", got " + Describe(node));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const Field arg{field->path + "[" + std::to_string(i) + "]", LineOf(node[i]), node[i]};
    std::optional<std::string> text = ReadScalar(arg, "a string", errors);
    if (!text) continue;
    if (i == 0 && text->empty()) {
      errors.Add(arg.line, arg.path, "must name a program, got \"\"");
      continue;
    }
    out->push_back(*text);
  }
}

void ParseReadinessPath(const Field& field, ErrorList& errors, std::string* out) {
  std::optional<std::string> text = ReadScalar(field, "a URL path like \"/healthz\"", errors);
  if (!text) return;
  if (!text->starts_with('/') || text->find_first_of(" \t\r\n") != std::string::npos) {
    errors.Add(field.line, field.path,
               "must be a URL path that starts with \"/\", like \"/healthz\", got " +
                   Describe(field.value));
    return;
  }
  *out = *text;
}

// The folder the command runs in: `path`, else the spec file's folder.
void ParseFolder(const Field* field, const fs::path& spec_dir, ErrorList& errors,
                 std::string* out) {
  if (field == nullptr) {
    *out = spec_dir.lexically_normal().string();
    return;
  }
  std::optional<std::string> text = ReadScalar(*field, "a folder", errors);
  if (!text) return;
  fs::path path(*text);
  if (path.is_relative()) path = spec_dir / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    errors.Add(field->line, field->path,
               "must be the folder the command runs in, but " + path.string() +
                   " is not a folder (relative paths are resolved against the spec file's "
                   "folder, " +
                   spec_dir.string() + ")");
    return;
  }
  std::string folder = path.string();
  if (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  *out = folder;
}

}  // namespace

void ParseCommand(const FieldMap& fields, int line, const fs::path& spec_dir, ErrorList& errors,
                  PredictorSpec* out) {
  ParseArgv(fields.Get("command"), line, errors, &out->command.argv);
  if (const Field* port = fields.Get("port")) {
    if (std::optional<int64_t> n = ReadInt(*port, 1, 65535, errors)) {
      out->command.port = static_cast<int>(*n);
    }
  }
  if (const Field* readiness = fields.Get("readiness_path")) {
    ParseReadinessPath(*readiness, errors, &out->command.readiness_path);
  }
  ParseFolder(fields.Get("path"), spec_dir, errors, &out->path);
  if (const Field* image = fields.Get("image")) {
    std::optional<std::string> text =
        ReadScalar(*image, "a container image reference like \"registry/app:1.2\"", errors);
    if (text && (text->empty() || text->find_first_of(" \t\r\n") != std::string::npos)) {
      errors.Add(image->line, image->path,
                 "must be a container image reference like \"registry/app:1.2\", got " +
                     Describe(image->value));
    } else if (text) {
      out->command.image = *text;
    }
  }
}

}  // namespace axon::spec
