// The CLI's environments: named platforms the verbs talk to, as `cortex env` had them. The
// local platform (`axon up`) is always the env "local"; others (a cluster installed with
// `axon cluster install`, or any operator added with `axon env add`) live in
// $AXON_HOME/cli_envs.json with the current env's name:
//
//   {"current": "prod",
//    "envs": {"prod": {"operator": "http://10.0.0.5:31889", "gateway": "http://10.0.0.5:31888",
//                      "token": "...", "kubeconfig": "/home/me/.kube/config",
//                      "context": "", "namespace": "axon"}}}
//
// The file holds platform tokens, so it is written owner-only. Plain values; not thread-safe
// (the CLI is single-threaded).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::cli {

inline constexpr char kLocalEnv[] = "local";

// An http(s)://HOST:PORT address, as an env names its operator and gateway.
struct BaseUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};
// "http://10.0.0.5:31889" (a trailing "/" is allowed); `what` names the value in the error.
StatusOr<BaseUrl> ParseBaseUrl(const std::string& url, const std::string& what);

struct CliEnv {
  std::string operator_url;  // the management API: http(s)://HOST:PORT
  std::string gateway_url;   // prediction requests: http(s)://HOST:PORT ("" = not known)
  std::string token;         // the platform token
  // Set by `axon cluster install`: the cluster the env was installed into.
  std::string kubeconfig;
  std::string context;
  std::string kube_namespace;
  bool operator==(const CliEnv&) const = default;
};

struct CliEnvs {
  std::string current = kLocalEnv;
  std::map<std::string, CliEnv> envs;  // never holds "local"

  nlohmann::json ToJson() const;
  // Checks every field; `where` (the file) is named in the error.
  static StatusOr<CliEnvs> FromJson(const nlohmann::json& json, const std::string& where);
  // A missing file is no envs but "local".
  static StatusOr<CliEnvs> Load(const std::filesystem::path& file);
  Status Save(const std::filesystem::path& file) const;  // owner-only, atomically
};

// A name for `axon env add`: 1 to 63 of [a-z0-9-], starting with a letter or digit.
Status CheckEnvName(const std::string& name);
// Checks the URLs and the token of an env to be added.
Status CheckEnv(const std::string& name, const CliEnv& env);

// $AXON_HOME/cli_envs.json.
std::filesystem::path CliEnvsFile(const std::filesystem::path& axon_home);

}  // namespace axon::cli
