// Parses and validates API spec files (YAML). Pure functions; thread-safe.
//
// A file holds one API (a mapping) or several (a sequence of mappings). The whole file is
// validated before anything is returned: callers get either every API or the list of errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "spec/api_spec.h"

namespace axon::spec {

// One problem in a spec file. ToString() reads like
//   axon.yaml:12: api "iris": autoscaling.min_replicas: must be an integer >= 0, got "abc"
//   axon.yaml:7: api "iris": predictor.pth: unknown field; did you mean "path"?
struct SpecError {
  std::string file;   // as given by the caller (usually the path the user typed)
  int line = 0;       // 1-based; 0 when the error is about the whole file
  std::string api;    // empty when the API's name is not known yet
  std::string field;  // dotted path, e.g. "autoscaling.min_replicas"; empty for the whole API
  std::string message;
  std::string ToString() const;
};

struct ParseResult {
  std::vector<ApiSpec> apis;  // empty whenever errors is not empty
  std::vector<SpecError> errors;
  bool ok() const { return errors.empty(); }
  std::string ErrorText() const;  // every error's ToString(), one per line
};

// Parses `yaml`; `file` names it in messages and relative paths resolve against its folder.
ParseResult ParseSpecText(std::string_view yaml, const std::filesystem::path& file);
// Reads and parses `file`; a missing or unreadable file is an error in the result.
ParseResult ParseSpecFile(const std::filesystem::path& file);

}  // namespace axon::spec
