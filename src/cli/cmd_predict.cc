// axon predict API FILE|-
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/files.h"

namespace axon::cli {
namespace {

namespace bhttp = http::bhttp;

std::string GuessContentType(const std::string& file, const std::string& body) {
  const auto ext = std::filesystem::path(file).extension();
  if (ext == ".json") return "application/json";
  if (ext == ".txt") return "text/plain";
  if (!nlohmann::json::parse(body, nullptr, false).is_discarded()) return "application/json";
  return "application/octet-stream";
}

void Predict(const std::string& api, const std::string& file, std::string content_type,
             const std::string& key) {
  std::string body;
  if (file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto read = ReadFile(file);
    if (!read.ok()) throw CliError{kExitBadInput, "cannot read " + file};
    body = std::move(read).value();
  }
  if (content_type.empty()) content_type = GuessContentType(file, body);
  const PlatformClient client(AxonHome::FromEnvironment());
  const auto info = client.Call(bhttp::verb::get, "/v1/apis/" + api);
  const auto res = client.Predict(info["endpoint"], std::move(body), content_type, key);
  if (res.result_int() / 100 != 2) {
    throw CliError{kExitFailed, "HTTP " + std::to_string(res.result_int()) + ": " + res.body()};
  }
  std::cout << res.body();
  if (!res.body().empty() && res.body().back() != '\n') std::cout << "\n";
}

}  // namespace

void AddPredictCommand(CLI::App& app) {
  auto api = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto content_type = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto* predict = app.add_subcommand("predict", "send one prediction request through the gateway");
  predict->add_option("api", *api, "the API")->required();
  predict->add_option("file", *file, "the request body: a file, or - for standard input")
      ->required();
  predict->add_option("--content-type", *content_type,
                      "default: from the file's extension (.json, .txt) or its content");
  predict->add_option("--key", *key, "an API key (for an API that needs one: `axon keys`)");
  predict->callback([api, file, content_type, key] { Predict(*api, *file, *content_type, *key); });
}

}  // namespace axon::cli
