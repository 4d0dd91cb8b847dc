// How to reach and authenticate to a Kubernetes API server: from a kubeconfig file (what
// kubectl reads) or from the service account a pod runs as. Plain values; copy freely. The
// loaders are pure functions of the files and environment they are given; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "common/status.h"

namespace axon::kube {

// The API server's address, split from a URL such as https://10.244.0.1:6443.
struct ServerAddress {
  bool tls = true;
  std::string host;  // a DNS name or an IP address (IPv6 without brackets)
  uint16_t port = 443;
  std::string path_prefix;  // "" or "/prefix" (a server behind a path-routing proxy)
};

// Parses "https://host[:port][/prefix]" (or http://). Errors name the URL and what is wrong.
StatusOr<ServerAddress> ParseServerUrl(const std::string& url);

struct Credentials {
  ServerAddress server;
  std::string ca_pem;  // PEM of the CA that signed the server's certificate; "" = none
  bool insecure_skip_verify = false;  // kubeconfig's insecure-skip-tls-verify (not for production)
  std::string client_cert_pem;        // client certificate (chain) for mutual TLS; "" = none
  std::string client_key_pem;         // its private key
  std::string token;                  // bearer token; "" = none
  // A file holding the bearer token, re-read as it changes (a pod's projected service-account
  // token is rotated by the kubelet). Takes precedence over `token` when set.
  std::filesystem::path token_file;
  std::string default_namespace = "default";
  std::string description;  // where these came from, for messages ("kubeconfig F, context C")
};

// Reads a kubeconfig file. `context` = "" uses its current-context. Relative file paths in it
// are resolved against the file's folder. Supported user entries: token, tokenFile,
// client-certificate(-data) + client-key(-data); exec and auth-provider plugins and
// username/password are rejected with a message saying so.
StatusOr<Credentials> LoadKubeconfig(const std::filesystem::path& file,
                                     const std::string& context = "");

// The kubeconfig named by $KUBECONFIG (its first entry when it lists several), else
// ~/.kube/config. `env` holds the environment to use (see EnvironmentMap()).
std::filesystem::path DefaultKubeconfigPath(const std::map<std::string, std::string>& env);

// The credentials of the pod this process runs in: KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT from `env`, and token, ca.crt and namespace from `account_dir`
// (the kubelet mounts them at kServiceAccountDir).
inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
StatusOr<Credentials> InClusterCredentials(
    const std::map<std::string, std::string>& env,
    const std::filesystem::path& account_dir = kServiceAccountDir);

// This process's environment as a map.
std::map<std::string, std::string> EnvironmentMap();

}  // namespace axon::kube
