#include "spec/spec_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "spec/api_parser.h"
#include "spec/yaml_fields.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr char kWhatAFileHolds[] =
    "an API (a mapping with name, kind and predictor) or a list of APIs";

// The APIs of the file's root node, or an empty list after an error.
std::vector<YAML::Node> ApiNodes(const std::vector<YAML::Node>& docs, ErrorList& errors) {
  const bool empty = std::all_of(docs.begin(), docs.end(),
                                 [](const YAML::Node& d) { return !d.IsDefined() || d.IsNull(); });
  if (empty) {
    errors.Add(0, "", "the file is empty; it must hold " + std::string(kWhatAFileHolds));
    return {};
  }
  if (docs.size() > 1) {
    errors.Add(LineOf(docs[1]), "",
               "the file holds " + std::to_string(docs.size()) +
                   " YAML documents (separated by ---); put all APIs in one list instead");
    return {};
  }
  const YAML::Node& root = docs[0];
  if (root.IsMap()) return {root};
  if (root.IsSequence() && root.size() > 0) return {root.begin(), root.end()};
  if (root.IsSequence()) {
    errors.Add(LineOf(root), "", "the list of APIs is empty; add at least one API");
  } else {
    errors.Add(LineOf(root), "",
               "the file must hold " + std::string(kWhatAFileHolds) + ", got " + Describe(root));
  }
  return {};
}

// Reports APIs that share a name or an endpoint with an earlier API of the file.
void CheckDuplicates(const std::vector<ParsedApi>& apis, ErrorList& errors) {
  std::map<std::string, const ParsedApi*> by_name;
  std::map<std::string, const ParsedApi*> by_endpoint;
  for (const ParsedApi& api : apis) {
    if (!api.name_ok) continue;
    errors.SetApi(api.spec.name);
    auto [same_name, new_name] = by_name.emplace(api.spec.name, &api);
    if (!new_name) {
      errors.Add(api.name_line, "name",
                 "duplicate API name; \"" + api.spec.name + "\" is also declared on line " +
                     std::to_string(same_name->second->name_line) + " (names must be unique)");
      continue;
    }
    const std::string& endpoint = api.spec.networking.endpoint;
    if (endpoint.empty()) continue;
    auto [same_endpoint, new_endpoint] = by_endpoint.emplace(endpoint, &api);
    if (!new_endpoint) {
      const ParsedApi& other = *same_endpoint->second;
      errors.Add(api.endpoint_line, "networking.endpoint",
                 "endpoint \"" + endpoint + "\" is already used by api \"" + other.spec.name +
                     "\" (line " + std::to_string(other.endpoint_line) +
                     "); give each API its own endpoint");
    }
  }
}

void ParseDocuments(const std::vector<YAML::Node>& docs, const std::string& file,
                    const fs::path& spec_dir, ErrorList& errors, std::vector<ApiSpec>* out) {
  std::vector<YAML::Node> nodes = ApiNodes(docs, errors);
  std::vector<ParsedApi> apis;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string label = "#" + std::to_string(i + 1);
    if (!nodes[i].IsMap()) {
      errors.SetApi(label);
      errors.Add(
          LineOf(nodes[i]), "",
          "each API must be a mapping with name, kind and predictor, got " + Describe(nodes[i]));
      continue;
    }
    apis.push_back(ParseApi(nodes[i], label, file, spec_dir, errors));
  }
  CheckDuplicates(apis, errors);
  CheckSplitTargetsInFile(apis, errors);
  for (ParsedApi& api : apis) out->push_back(std::move(api.spec));
}

fs::path SpecDir(const fs::path& file) {
  std::error_code ec;
  fs::path absolute = fs::absolute(file, ec);
  if (ec) absolute = file;
  return absolute.lexically_normal().parent_path();
}

}  // namespace

std::string SpecError::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!out.empty()) out += ": ";
  if (!api.empty()) out += api.starts_with('#') ? "api " + api + ": " : "api \"" + api + "\": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

std::string ParseResult::ErrorText() const {
  std::string out;
  for (const SpecError& error : errors) {
    if (!out.empty()) out += '\n';
    out += error.ToString();
  }
  return out;
}

ParseResult ParseSpecText(std::string_view yaml, const fs::path& file) {
  ParseResult result;
  ErrorList errors(file.string(), &result.errors);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    ParseDocuments(docs, file.string(), SpecDir(file), errors, &result.apis);
  } catch (const YAML::Exception& e) {
    errors.SetApi("");
    errors.Add(e.mark.is_null() ? 0 : e.mark.line + 1, "",
               "YAML syntax error: " + e.msg +
                   " (check the indentation and quoting on this line and the one before)");
  }
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const SpecError& a, const SpecError& b) { return a.line < b.line; });
  if (!result.errors.empty()) result.apis.clear();
  return result;
}

ParseResult ParseSpecFile(const fs::path& file) {
  ParseResult result;
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  std::string problem;
  if (!fs::exists(status)) {
    problem = "no such file; check the path (a spec is usually named axon.yaml)";
  } else if (fs::is_directory(status)) {
    problem = "is a folder; pass the spec file inside it (e.g. axon.yaml)";
  }
  std::ostringstream text;
  if (problem.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (in) text << in.rdbuf();
    if (!in) problem = "cannot read the file: " + std::string(std::strerror(errno));
  }
  if (!problem.empty()) {
    result.errors.push_back(SpecError{file.string(), 0, "", "", problem});
    return result;
  }
  return ParseSpecText(text.str(), file);
}

}  // namespace axon::spec
