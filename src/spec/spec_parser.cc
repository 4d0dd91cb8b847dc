#include "spec/spec_parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include <yaml-cpp/eventhandler.h>
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

// The offset of the first byte that does not belong to a well-formed UTF-8 sequence (Unicode
// table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t continuation = 0;                // bytes after the first
    unsigned char low = 0x80, high = 0xBF;  // range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      continuation = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      continuation = 2;
      low = c == 0xE0 ? 0xA0 : 0x80;
      high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      continuation = 3;
      low = c == 0xF0 ? 0x90 : 0x80;
      high = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return i;
    }
    if (text.size() - i <= continuation) return i;
    for (size_t k = 1; k <= continuation; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return i;
    }
    i += continuation + 1;
  }
  return std::string_view::npos;
}

// Specs are UTF-8 text: every string in them ends up in JSON (state store, management API).
// `text` with each byte that is not part of well-formed UTF-8 replaced by '?'. yaml-cpp's
// messages may quote input cut inside a character, and error text reaches clients as JSON.
std::string ValidUtf8(std::string text) {
  for (size_t bad; (bad = FirstInvalidUtf8(text)) != std::string_view::npos;) text[bad] = '?';
  return text;
}

bool CheckUtf8(std::string_view yaml, ErrorList& errors) {
  const size_t bad = FirstInvalidUtf8(yaml);
  if (bad == std::string_view::npos) return true;
  const std::string_view before = yaml.substr(0, bad);
  const size_t line_start = before.rfind('\n');
  const size_t column = line_start == std::string_view::npos ? bad + 1 : bad - line_start;
  char byte[8];
  std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(yaml[bad]));
  errors.Add(1 + static_cast<int>(std::count(before.begin(), before.end(), '\n')), "",
             std::string("not valid UTF-8: byte ") + byte + " in column " + std::to_string(column) +
                 "; save the file as UTF-8");
  return false;
}

// A first pass over a YAML stream's events, for what yaml-cpp 0.7 gets wrong: a document that
// starts where the one before did (a stray token such as "," that no document consumes, on
// which YAML::LoadAll adds empty documents until memory runs out), and a scalar that is not
// valid UTF-8 (the escapes \N and \_ become the bare bytes 0x85 and 0xA0).
class StreamCheck : public YAML::EventHandler {
 public:
  bool stuck() const { return stuck_; }
  const YAML::Mark& document_start() const { return document_start_; }
  // The first scalar that is not valid UTF-8, if any.
  const std::optional<YAML::Mark>& bad_scalar() const { return bad_scalar_; }
  unsigned char bad_byte() const { return bad_byte_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    stuck_ = documents_++ > 0 && mark.pos == document_start_.pos;
    document_start_ = mark;
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    const size_t bad = FirstInvalidUtf8(value);
    if (bad == std::string::npos || bad_scalar_) return;
    bad_scalar_ = mark;
    bad_byte_ = static_cast<unsigned char>(value[bad]);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  size_t documents_ = 0;
  bool stuck_ = false;
  YAML::Mark document_start_;
  std::optional<YAML::Mark> bad_scalar_;
  unsigned char bad_byte_ = 0;
};

// YAML::LoadAll after a StreamCheck pass: a stray token is a syntax error (thrown, like
// yaml-cpp's own), a scalar that is not UTF-8 an error in `errors` (then nullopt).
std::optional<std::vector<YAML::Node>> LoadAll(const std::string& yaml, ErrorList& errors) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  StreamCheck check;
  while (parser.HandleNextDocument(check)) {
    if (check.stuck()) {
      const auto pos = static_cast<size_t>(check.document_start().pos);
      const bool printable =
          pos < yaml.size() && std::isgraph(static_cast<unsigned char>(yaml[pos]));
      throw YAML::ParserException(
          check.document_start(),
          "unexpected " + (printable ? "\"" + yaml.substr(pos, 1) + "\"" : "character") +
              " where a value should start");
    }
  }
  if (const auto& mark = check.bad_scalar()) {
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", check.bad_byte());
    errors.Add(mark->line + 1, "",
               std::string("a string here is not valid UTF-8 (it holds the byte ") + byte +
                   "; the escapes \"\\N\" and \"\\_\" give such bytes): write the character "
                   "itself");
    return std::nullopt;
  }
  return YAML::LoadAll(yaml);
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
  if (!CheckUtf8(yaml, errors)) return result;
  try {
    if (auto docs = LoadAll(std::string(yaml), errors)) {
      ParseDocuments(*docs, file.string(), SpecDir(file), errors, &result.apis);
    }
  } catch (const YAML::Exception& e) {
    errors.SetApi("");
    errors.Add(e.mark.is_null() ? 0 : e.mark.line + 1, "",
               "YAML syntax error: " + ValidUtf8(e.msg) +
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
