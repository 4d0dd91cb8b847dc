#include "kube/credentials.h"

#include <unistd.h>

#include <charconv>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "common/files.h"
#include "kube/base64.h"

extern char** environ;

namespace axon::kube {
namespace {

namespace fs = std::filesystem;

// The entry named `name` of a kubeconfig list such as `clusters` ({name, cluster: {...}}).
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name,
                                    const std::string& field) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry[field];
  }
  return std::nullopt;
}

std::string Str(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.as<std::string>() : std::string();
}

fs::path Resolve(const fs::path& base, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p : base / p;
}

// The PEM in `<key>-data` (base64) or in the file `<key>`; "" when neither is set.
StatusOr<std::string> Pem(const YAML::Node& map, const std::string& key, const fs::path& base,
                          const std::string& where) {
  const std::string data = Str(map, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = DecodeBase64(data);
    if (!decoded.ok()) {
      return InvalidArgument(where + ": " + key + "-data: " + decoded.status().message());
    }
    return decoded;
  }
  const std::string file = Str(map, key.c_str());
  if (file.empty()) return std::string();
  auto text = ReadFile(Resolve(base, file));
  if (!text.ok()) return InvalidArgument(where + ": " + key + ": " + text.status().message());
  return text;
}

Status ReadUser(const YAML::Node& user, const fs::path& base, const std::string& where,
                Credentials* out) {
  if (!user.IsMap()) return OkStatus();  // anonymous
  if (user["exec"] || user["auth-provider"]) {
    return InvalidArgument(where +
                           ": exec and auth-provider credential plugins are not supported; use "
                           "a token or a client certificate (e.g. a service account's token)");
  }
  if (user["username"] || user["password"]) {
    return InvalidArgument(where +
                           ": basic authentication (username/password) is not "
                           "supported; use a token or a client certificate");
  }
  out->token = Str(user, "token");
  const std::string token_file = Str(user, "tokenFile");
  if (!token_file.empty()) out->token_file = Resolve(base, token_file);
  auto cert = Pem(user, "client-certificate", base, where);
  if (!cert.ok()) return cert.status();
  auto key = Pem(user, "client-key", base, where);
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty()) {
    return InvalidArgument(where + ": client-certificate and client-key must be given together");
  }
  out->client_cert_pem = std::move(cert).value();
  out->client_key_pem = std::move(key).value();
  return OkStatus();
}

StatusOr<Credentials> FromKubeconfig(const YAML::Node& root, const fs::path& file,
                                     const std::string& wanted_context) {
  const std::string name = "kubeconfig " + file.string();
  std::string context_name = wanted_context.empty() ? Str(root, "current-context") : wanted_context;
  if (context_name.empty()) {
    return InvalidArgument(name + ": no current-context; pass a context name");
  }
  const auto found_context = FindNamed(root["contexts"], context_name, "context");
  if (!found_context) return InvalidArgument(name + ": no context named \"" + context_name + "\"");
  const YAML::Node context = *found_context;
  const std::string where = name + ", context " + context_name;
  const std::string cluster_name = Str(context, "cluster");
  const auto found_cluster = FindNamed(root["clusters"], cluster_name, "cluster");
  if (!found_cluster) return InvalidArgument(where + ": no cluster named \"" + cluster_name + "\"");
  const YAML::Node cluster = *found_cluster;
  Credentials creds;
  creds.description = where;
  auto server = ParseServerUrl(Str(cluster, "server"));
  if (!server.ok()) return InvalidArgument(where + ": " + server.status().message());
  creds.server = std::move(server).value();
  const fs::path base = file.parent_path();
  auto ca = Pem(cluster, "certificate-authority", base, where);
  if (!ca.ok()) return ca.status();
  creds.ca_pem = std::move(ca).value();
  creds.insecure_skip_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  const std::string user_name = Str(context, "user");
  const auto found_user = FindNamed(root["users"], user_name, "user");
  if (!found_user && !user_name.empty()) {
    return InvalidArgument(where + ": no user named \"" + user_name + "\"");
  }
  Status user =
      ReadUser(found_user.value_or(YAML::Node()), base, where + ", user " + user_name, &creds);
  if (!user.ok()) return user;
  const std::string ns = Str(context, "namespace");
  if (!ns.empty()) creds.default_namespace = ns;
  return creds;
}

}  // namespace

StatusOr<ServerAddress> ParseServerUrl(const std::string& url) {
  ServerAddress out;
  std::string_view rest(url);
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.tls = false;
    out.port = 80;
    rest.remove_prefix(7);
  } else {
    return InvalidArgument("server URL \"" + url + "\" must start with https:// or http://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    out.path_prefix = std::string(prefix);
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return InvalidArgument("server URL \"" + url + "\": bad IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return InvalidArgument("server URL \"" + url + "\": bad port");
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgument("server URL \"" + url + "\" has no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("server URL \"" + url + "\": bad port \"" + std::string(port) + "\"");
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

StatusOr<Credentials> LoadKubeconfig(const fs::path& file, const std::string& context) {
  auto text = ReadFile(file);
  if (!text.ok()) return InvalidArgument("kubeconfig: " + text.status().message());
  try {
    return FromKubeconfig(YAML::Load(*text), file, context);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("kubeconfig " + file.string() + ": " + e.what());
  }
}

fs::path DefaultKubeconfigPath(const std::map<std::string, std::string>& env) {
  auto it = env.find("KUBECONFIG");
  if (it != env.end() && !it->second.empty()) return it->second.substr(0, it->second.find(':'));
  it = env.find("HOME");
  return fs::path(it == env.end() ? "/root" : it->second) / ".kube" / "config";
}

StatusOr<Credentials> InClusterCredentials(const std::map<std::string, std::string>& env,
                                           const fs::path& account_dir) {
  auto host = env.find("KUBERNETES_SERVICE_HOST");
  auto port = env.find("KUBERNETES_SERVICE_PORT");
  if (host == env.end() || port == env.end()) {
    return InvalidArgument(
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "are not set; pass a kubeconfig instead");
  }
  const std::string bracketed =
      host->second.find(':') != std::string::npos ? "[" + host->second + "]" : host->second;
  auto server = ParseServerUrl("https://" + bracketed + ":" + port->second);
  if (!server.ok()) return InvalidArgument("in-cluster: " + server.status().message());
  Credentials creds;
  creds.server = std::move(server).value();
  creds.description = "in-cluster service account (" + account_dir.string() + ")";
  auto ca = ReadFile(account_dir / "ca.crt");
  if (!ca.ok()) return InvalidArgument("in-cluster: " + ca.status().message());
  creds.ca_pem = std::move(ca).value();
  if (!fs::exists(account_dir / "token")) {
    return InvalidArgument("in-cluster: no token in " + account_dir.string() +
                           " (is automountServiceAccountToken off for this pod?)");
  }
  creds.token_file = account_dir / "token";
  auto ns = ReadFile(account_dir / "namespace");
  if (ns.ok() && !ns->empty()) {
    std::string value = std::move(ns).value();
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    creds.default_namespace = value;
  }
  return creds;
}

std::map<std::string, std::string> EnvironmentMap() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace axon::kube
