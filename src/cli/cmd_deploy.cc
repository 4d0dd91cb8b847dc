// axon deploy: sends a spec file to the operator (with its folder's files, to an env other than
// `local`: cli/project_files.h), then shows each API's rollout until it is
// live or fails (cli/rollout_watch.h), unless --no-wait.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/durations.h"
#include "cli/platform_client.h"
#include "cli/project_files.h"
#include "cli/rollout_watch.h"
#include "common/files.h"

namespace axon::cli {
namespace {

namespace bhttp = http::bhttp;

// What a deploy to a cluster may send: base64 makes it 4/3 larger, and the operator's
// management API takes 10 MiB bodies by default (--max-body-bytes).
constexpr uint64_t kMaxUploadBytes = 7 << 20;

struct DeployOptions {
  std::string file = "axon.yaml";
  bool no_wait = false;
  std::string timeout = "10m";
};

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

void Deploy(const DeployOptions& o) {
  const auto timeout = ParseDurationFlag("--timeout", o.timeout);
  if (!timeout.ok()) throw CliError{kExitBadInput, timeout.status().message()};
  const std::string& file = o.file;
  auto yaml = ReadFile(file);
  if (!yaml.ok()) {
    throw CliError{kExitBadInput, "cannot read " + file +
                                      (file == "axon.yaml" ? " (give the spec file: axon deploy "
                                                             "path/to/axon.yaml)"
                                                           : "")};
  }
  const std::string absolute = std::filesystem::absolute(file).lexically_normal().string();
  const PlatformClient client(AxonHome::FromEnvironment());
  nlohmann::json body = {{"file", absolute}, {"yaml", *yaml}};
  if (!client.local()) {  // the operator cannot read this disk: the folder goes along
    auto files = ProjectFiles(std::filesystem::path(absolute).parent_path(), kMaxUploadBytes);
    if (!files.ok()) throw CliError{kExitBadInput, files.status().message()};
    body["files"] = std::move(files).value();
  }
  nlohmann::json results;
  try {
    results = client.Call(bhttp::verb::post, "/v1/deploy", body);
  } catch (CliError& e) {
    ReplaceAll(e.message, absolute, file);  // show the path as the user typed it
    throw;
  }
  std::vector<std::string> apis;
  for (const auto& r : results) {
    std::cout << r["action"].get<std::string>() << " api " << r["api"].get<std::string>()
              << " (version " << r["version"] << ") at " << client.addresses().GatewayUrl()
              << r["endpoint"].get<std::string>() << "\n";
    apis.push_back(r["api"].get<std::string>());
  }
  std::cout << std::flush;
  if (o.no_wait || apis.empty()) return;
  WatchRollout(client, apis, *timeout, ::isatty(STDOUT_FILENO) == 1, std::cout);
}

}  // namespace

void AddDeployCommand(CLI::App& app) {
  auto o = std::make_shared<DeployOptions>();
  auto* deploy = app.add_subcommand(
      "deploy",
      "create or update the APIs of a spec file (validated whole before any change), then show "
      "each API's rollout until its replicas are ready (exit code 1 if one fails)");
  deploy->add_option("file", o->file, "the spec file")->capture_default_str();
  deploy->add_flag("--no-wait", o->no_wait,
                   "return once the operator has accepted the deploy; the rollout goes on");
  deploy
      ->add_option("--timeout", o->timeout,
                   "how long to wait for the rollout (it goes on after that), e.g. 90s, 10m")
      ->capture_default_str();
  deploy->callback([o] { Deploy(*o); });
}

}  // namespace axon::cli
