#include "cli/cli_envs.h"

#include <charconv>

#include "common/files.h"

namespace axon::cli {
namespace {

std::string Field(const nlohmann::json& env, const char* key) {
  const auto it = env.find(key);
  return it != env.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string BaseUrl::ToString() const {
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

StatusOr<BaseUrl> ParseBaseUrl(const std::string& url, const std::string& what) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument(what + " \"" + url + "\": " + why +
                           " (expected http://HOST:PORT or https://HOST:PORT)");
  };
  BaseUrl out;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return bad("not an http(s) URL");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("has a path");
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no host and port");
  out.host = rest.substr(0, colon);
  if (out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  const std::string port = rest.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return bad("port \"" + port + "\" is not a number from 1 to 65535");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

Status CheckEnvName(const std::string& name) {
  const bool ok_size = !name.empty() && name.size() <= 63;
  bool ok_chars = ok_size && name.front() != '-';
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok_chars = false;
  }
  if (!ok_chars) {
    return InvalidArgument("env name \"" + name +
                           "\": use 1 to 63 lowercase letters, digits and '-', not starting "
                           "with '-'");
  }
  return OkStatus();
}

Status CheckEnv(const std::string& name, const CliEnv& env) {
  if (Status s = CheckEnvName(name); !s.ok()) return s;
  if (name == kLocalEnv) {
    return InvalidArgument("env \"local\" is the platform `axon up` starts; choose another name");
  }
  if (auto url = ParseBaseUrl(env.operator_url, "env " + name + ": operator"); !url.ok()) {
    return url.status();
  }
  if (!env.gateway_url.empty()) {
    if (auto url = ParseBaseUrl(env.gateway_url, "env " + name + ": gateway"); !url.ok()) {
      return url.status();
    }
  }
  if (env.token.empty()) {
    return InvalidArgument("env " + name + ": no token (the platform token of its operator)");
  }
  return OkStatus();
}

nlohmann::json CliEnvs::ToJson() const {
  nlohmann::json out = {{"current", current}, {"envs", nlohmann::json::object()}};
  for (const auto& [name, env] : envs) {
    out["envs"][name] = {{"operator", env.operator_url}, {"gateway", env.gateway_url},
                         {"token", env.token},           {"kubeconfig", env.kubeconfig},
                         {"context", env.context},       {"namespace", env.kube_namespace}};
  }
  return out;
}

StatusOr<CliEnvs> CliEnvs::FromJson(const nlohmann::json& json, const std::string& where) {
  const std::string fix = " (fix it, or remove it and add the envs again with `axon env add`)";
  if (!json.is_object()) return InvalidArgument(where + ": not a JSON object" + fix);
  CliEnvs out;
  if (json.contains("current")) {
    if (!json["current"].is_string()) {
      return InvalidArgument(where + ": \"current\" is not a string" + fix);
    }
    out.current = json["current"].get<std::string>();
  }
  const auto envs = json.find("envs");
  if (envs != json.end() && !envs->is_object()) {
    return InvalidArgument(where + ": \"envs\" is not an object" + fix);
  }
  if (envs != json.end()) {
    for (const auto& [name, item] : envs->items()) {
      if (!item.is_object()) return InvalidArgument(where + ": env " + name + " is not an object");
      for (const auto& [key, value] : item.items()) {
        if (!value.is_string()) {
          return InvalidArgument(where + ": env " + name + ": \"" + key + "\" is not a string" +
                                 fix);
        }
      }
      CliEnv env{.operator_url = Field(item, "operator"),
                 .gateway_url = Field(item, "gateway"),
                 .token = Field(item, "token"),
                 .kubeconfig = Field(item, "kubeconfig"),
                 .context = Field(item, "context"),
                 .kube_namespace = Field(item, "namespace")};
      if (Status s = CheckEnv(name, env); !s.ok()) {
        return InvalidArgument(where + ": " + s.message() + fix);
      }
      out.envs.emplace(name, std::move(env));
    }
  }
  if (out.current != kLocalEnv && !out.envs.contains(out.current)) {
    return InvalidArgument(where + ": the current env \"" + out.current +
                           "\" is not defined (choose one with `axon env use NAME`)");
  }
  return out;
}

StatusOr<CliEnvs> CliEnvs::Load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return CliEnvs{};
  auto text = ReadFile(file);
  if (!text.ok()) return text.status();
  const auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return InvalidArgument(file.string() +
                           ": not valid JSON (fix it, or remove it and add the envs again with "
                           "`axon env add`)");
  }
  return FromJson(json, file.string());
}

Status CliEnvs::Save(const std::filesystem::path& file) const {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  return WriteFileAtomic(file, ToJson().dump(2) + "\n",
                         std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::filesystem::path CliEnvsFile(const std::filesystem::path& axon_home) {
  return axon_home / "cli_envs.json";
}

}  // namespace axon::cli
