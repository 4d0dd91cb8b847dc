// ParseDependencies (declared in api_parser.h): predictor.dependencies, Cortex's names for the
// files that make a Python predictor's environment.
#include <system_error>

#include "spec/api_parser.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

// Checks one dependency file and returns its absolute, normalized path. The file must lie in
// `folder` (the predictor's), which is copied at deploy time; "" skips that check.
std::optional<std::string> ReadDependencyFile(const Field& field, const fs::path& spec_dir,
                                              const fs::path& folder, ErrorList& errors) {
  std::optional<std::string> text = ReadScalar(field, "a path to a file", errors);
  if (!text) return std::nullopt;
  if (text->empty()) {
    errors.Add(field.line, field.path, "must be a path to a file, got \"\"");
    return std::nullopt;
  }
  std::optional<std::string> resolved = ResolveRegularFile(field, *text, spec_dir, errors);
  if (!resolved) return std::nullopt;
  const fs::path path(*resolved);
  if (!folder.empty()) {
    const fs::path relative = path.lexically_relative(folder);
    if (relative.empty() || *relative.begin() == "..") {
      errors.Add(field.line, field.path,
                 "must lie in the predictor's folder " + folder.string() +
                     " (that folder is what a deploy copies), but " + path.string() +
                     " does not; move it there");
      return std::nullopt;
    }
  }
  return path.string();
}

}  // namespace

void ParseDependencies(const Field& field, const fs::path& spec_dir,
                       const std::string& predictor_path, ErrorList& errors,
                       DependenciesSpec* out) {
  FieldMap fields(field.value, field.path, field.line, SchemaFor("predictor.dependencies"), errors);
  if (!fields.ok()) return;
  const Field* pip = fields.Get("pip");
  const Field* shell = fields.Get("shell");
  if (pip == nullptr && shell == nullptr) {
    if (field.value.IsMap() && field.value.size() > 0) return;  // only unknown keys: reported
    errors.Add(field.line, field.path,
               "must name a pip requirements file, a shell script or both, e.g. {pip: "
               "requirements.txt, shell: dependencies.sh}; leave it out when there are none");
    return;
  }
  const fs::path folder =
      predictor_path.empty() ? fs::path() : fs::path(predictor_path).parent_path();
  if (pip != nullptr) {
    if (auto path = ReadDependencyFile(*pip, spec_dir, folder, errors)) out->pip = *path;
  }
  if (shell != nullptr) {
    if (auto path = ReadDependencyFile(*shell, spec_dir, folder, errors)) out->shell = *path;
  }
}

}  // namespace axon::spec
