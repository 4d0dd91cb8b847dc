// Fuzzes spec::ParseSpecText: the input is the text of an axon.yaml. The spec's folder is a
// temporary one that holds predictor.py and model files and folders, so that specs naming them
// get past the path checks to the fields after them.
//
// Checked besides the sanitizers: no exception escapes; a result has either APIs or errors;
// every error has a message and is valid UTF-8; accepted APIs have unique names and endpoints
// starting with "/", and survive the JSON round trip the state store relies on (ToJson, dump,
// parse, ApiSpecFromJson).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include "spec/spec_parser.h"

namespace {

namespace fs = std::filesystem;

fs::path& SpecDir() {
  static fs::path dir;
  return dir;
}

void RemoveSpecDir() {
  std::error_code ec;
  fs::remove_all(SpecDir(), ec);
}

void Touch(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "\n";
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "spec_parser: %s\n", what.c_str());
  std::abort();
}

void CheckResult(const axon::spec::ParseResult& result) {
  if (result.ok() && result.apis.empty()) Fail("neither APIs nor errors");
  if (!result.ok() && !result.apis.empty()) Fail("both APIs and errors");
  for (const auto& error : result.errors) {
    if (error.message.empty() || error.ToString().empty()) Fail("an error without a message");
  }
  // Error text reaches clients as JSON (the management API), so it must be valid UTF-8.
  (void)nlohmann::json(result.ErrorText()).dump();
  std::set<std::string> names;
  std::set<std::string> endpoints;
  for (const auto& api : result.apis) {
    if (!names.insert(api.name).second) Fail("two APIs named " + api.name);
    if (!api.networking.endpoint.starts_with('/')) Fail("endpoint without a leading /");
    if (!endpoints.insert(api.networking.endpoint).second) Fail("two APIs at one endpoint");
    const std::string stored = axon::spec::ToJson(api).dump();
    const auto again = axon::spec::ApiSpecFromJson(nlohmann::json::parse(stored));
    if (!(again == api)) Fail("the JSON round trip changed api " + api.name + ": " + stored);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char pattern[] = "/tmp/axon-fuzz-spec-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) Fail("cannot create a temporary folder");
  SpecDir() = pattern;
  for (const char* file : {"predictor.py", "model/1/model.pt", "model/2/model.pt",
                           "model/model.json", "model.onnx", "model/1/model.onnx"}) {
    Touch(SpecDir() / file);
  }
  std::atexit(RemoveSpecDir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    CheckResult(axon::spec::ParseSpecText(yaml, SpecDir() / "axon.yaml"));
  } catch (const std::exception& e) {
    Fail(std::string("exception escaped ParseSpecText or the JSON round trip: ") + e.what());
  }
  return 0;
}
