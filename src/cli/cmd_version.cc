// axon version [-o text|json]
#include <iostream>

#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/version.h"

namespace axon::cli {
namespace {

namespace bhttp = http::bhttp;

struct Build {
  std::string version;
  std::string commit;
};

// "0.1.0 (commit 0123abcd...)"
std::string Describe(const Build& build) {
  return build.version + " (commit " + build.commit + ")";
}

// Builds differ when their versions do, or their commits do and both are known.
bool Differ(const Build& a, const Build& b) {
  if (a.version != b.version) return true;
  return a.commit != b.commit && a.commit != "unknown" && b.commit != "unknown";
}

void PrintVersion(const std::string& output) {
  const Build cli{std::string(Version()), std::string(GitCommit())};
  const PlatformClient client(AxonHome::FromEnvironment());
  const auto& a = client.addresses();
  const std::string address = a.operator_host + ":" + std::to_string(a.operator_port);
  std::optional<Build> platform;
  if (client.OperatorUp()) {
    const auto info = client.Call(bhttp::verb::get, "/v1/info");
    platform = Build{info.value("version", "unknown"), info.value("commit", "unknown")};
  }
  if (output == "json") {
    nlohmann::json out = {{"cli", {{"version", cli.version}, {"commit", cli.commit}}},
                          {"platform", nullptr}};
    if (platform) {
      out["platform"] = {
          {"version", platform->version}, {"commit", platform->commit}, {"operator", address}};
    }
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "axon " << Describe(cli) << "\n";
    if (platform) {
      std::cout << "platform " << Describe(*platform) << " at " << address << "\n";
    } else {
      std::cout << "platform not running at " << address << "\n";
    }
  }
  if (platform && Differ(cli, *platform)) {
    std::cerr << "axon: warning: this axon is " << Describe(cli) << " but the platform at "
              << address << " runs " << Describe(*platform)
              << "; restart it with this build (`axon down`, then `axon up`)\n";
  }
}

}  // namespace

void AddVersionCommand(CLI::App& app) {
  auto output = std::make_shared<std::string>("text");
  auto* version = app.add_subcommand(
      "version", "print this axon's version and commit, and the running platform's");
  version->add_option("-o,--output", *output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  version->callback([output] { PrintVersion(*output); });
}

}  // namespace axon::cli
