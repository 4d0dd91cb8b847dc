#include "cli/platform_client.h"

#include "cli/cli_envs.h"
#include "common/files.h"
#include "http/client.h"
#include "http/url.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

std::string ErrorText(const http::Response& res) {
  const auto json = nlohmann::json::parse(res.body(), nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    return json["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(res.result_int()) + ": " + res.body();
}

std::string& SelectedEnvName() {
  static std::string name;
  return name;
}

}  // namespace

void SelectEnv(std::string name) { SelectedEnvName() = std::move(name); }

std::string SelectedEnv(const AxonHome& home) {
  if (!SelectedEnvName().empty()) return SelectedEnvName();
  auto envs = CliEnvs::Load(CliEnvsFile(home.root));
  if (!envs.ok()) throw CliError{kExitBadInput, envs.status().message()};
  return envs->current;
}

nlohmann::json PlatformAddresses::ToJson() const {
  return {{"operator_host", operator_host},
          {"operator_port", operator_port},
          {"gateway_host", gateway_host},
          {"gateway_port", gateway_port},
          {"grpc_port", grpc_port},
          {"tls", tls},
          {"ca_file", ca_file}};
}

PlatformAddresses PlatformAddresses::FromJson(const nlohmann::json& j) {
  PlatformAddresses a;
  try {
    a.operator_host = j.value("operator_host", a.operator_host);
    a.operator_port = j.value("operator_port", a.operator_port);
    a.gateway_host = j.value("gateway_host", a.gateway_host);
    a.gateway_port = j.value("gateway_port", a.gateway_port);
    a.grpc_port = j.value("grpc_port", a.grpc_port);
    a.tls = j.value("tls", a.tls);
    a.ca_file = j.value("ca_file", a.ca_file);
  } catch (const nlohmann::json::exception& e) {
    throw CliError{kExitBadInput, std::string("platform.json is malformed: ") + e.what() +
                                      " (run `axon up` again to rewrite it)"};
  }
  return a;
}

std::string PlatformAddresses::GatewayUrl() const {
  return (tls ? "https://" : "http://") + gateway_host + ":" + std::to_string(gateway_port);
}

http::Peer PlatformAddresses::OperatorPeer() const {
  return {.host = operator_host == "0.0.0.0" ? "127.0.0.1" : operator_host,
          .port = operator_port,
          .tls = tls,
          .ca_file = ca_file};
}

std::string PlatformAddresses::OperatorUrl() const {
  const http::Peer peer = OperatorPeer();
  return (tls ? "https://" : "http://") + peer.host + ":" + std::to_string(peer.port);
}

http::Peer PlatformAddresses::GatewayPeer() const {
  return {.host = gateway_host == "0.0.0.0" ? "127.0.0.1" : gateway_host,
          .port = gateway_port,
          .tls = tls,
          .ca_file = ca_file};
}

PlatformClient::PlatformClient(AxonHome home, std::string env)
    : home_(std::move(home)), env_(env.empty() ? SelectedEnv(home_) : std::move(env)) {
  if (env_ != kLocalEnv) {
    auto envs = CliEnvs::Load(CliEnvsFile(home_.root));
    if (!envs.ok()) throw CliError{kExitBadInput, envs.status().message()};
    const auto it = envs->envs.find(env_);
    if (it == envs->envs.end()) {
      throw CliError{kExitBadInput, "no env \"" + env_ +
                                        "\": see `axon env list`, add one with `axon env add` or "
                                        "`axon cluster install`"};
    }
    const auto op = ParseBaseUrl(it->second.operator_url, "env " + env_ + ": operator");
    if (!op.ok()) throw CliError{kExitBadInput, op.status().message()};
    addresses_.operator_host = op->host;
    addresses_.operator_port = op->port;
    addresses_.tls = op->tls;
    addresses_.grpc_port = 0;
    if (!it->second.gateway_url.empty()) {
      const auto gw = ParseBaseUrl(it->second.gateway_url, "env " + env_ + ": gateway");
      if (!gw.ok()) throw CliError{kExitBadInput, gw.status().message()};
      addresses_.gateway_host = gw->host;
      addresses_.gateway_port = gw->port;
    } else {
      addresses_.gateway_port = 0;
    }
    token_ = it->second.token;
    return;
  }
  if (auto saved = ReadFile(home_.ConfigFile()); saved.ok()) {
    const auto json = nlohmann::json::parse(*saved, nullptr, false);
    if (json.is_object()) addresses_ = PlatformAddresses::FromJson(json);
  }
  if (auto token = ReadFile(home_.TokenFile()); token.ok()) token_ = *token;
}

std::string PlatformClient::Hint() const {
  if (local()) return "run `axon up`";
  return "env " + env_ + "; check it with `axon env list` and `axon cluster info`";
}

std::optional<nlohmann::json> PlatformClient::OperatorHealth() const {
  auto res =
      http::Fetch(addresses_.OperatorPeer(), http::MakeRequest(bhttp::verb::get, "/healthz"), 1s);
  if (!res.ok() || res->result_int() != 200) return std::nullopt;
  auto json = nlohmann::json::parse(res->body(), nullptr, false);
  return json.is_object() ? std::optional(std::move(json)) : std::nullopt;
}

std::string PlatformClient::DashboardUrl() const {
  return addresses_.OperatorUrl() + "/login?token=" + http::PercentEncode(token_);
}

bool PlatformClient::OperatorUp() const { return OperatorHealth().has_value(); }

bool PlatformClient::GatewayUp() const {
  auto res = http::Fetch(addresses_.GatewayPeer(),
                         http::MakeRequest(bhttp::verb::get, "/_axon/healthz"), 1s);
  return res.ok() && res->result_int() == 200;
}

nlohmann::json PlatformClient::Call(bhttp::verb method, const std::string& target,
                                    const nlohmann::json& body) const {
  auto res = http::Fetch(
      addresses_.OperatorPeer(),
      http::MakeRequest(method, target, token_, body.is_null() ? std::string() : body.dump()),
      120s);
  if (!res.ok()) {
    throw CliError{kExitNotRunning, "the Axon operator is not running at " +
                                        addresses_.OperatorPeer().Describe() + " (" + Hint() +
                                        "): " + res.status().message()};
  }
  if (res->result_int() / 100 != 2) {
    throw CliError{res->result_int() == 400 ? kExitBadInput : kExitFailed, ErrorText(*res)};
  }
  const auto json = nlohmann::json::parse(res->body(), nullptr, false);
  if (json.is_discarded()) throw CliError{kExitFailed, "the operator sent malformed JSON"};
  return json;
}

http::Response PlatformClient::Predict(const std::string& endpoint, std::string body,
                                       const std::string& content_type,
                                       const std::string& api_key) const {
  auto request = http::MakeRequest(bhttp::verb::post, endpoint, "", std::move(body), content_type);
  if (!api_key.empty()) request.set("X-API-Key", api_key);
  if (addresses_.gateway_port == 0) {
    throw CliError{kExitBadInput, "env " + env_ +
                                      " names no gateway: add it again with `axon env add " + env_ +
                                      " ... --gateway URL`"};
  }
  auto res = http::Fetch(addresses_.GatewayPeer(), std::move(request), 120s);
  if (!res.ok()) {
    throw CliError{kExitNotRunning, "the Axon gateway is not reachable at " +
                                        addresses_.GatewayUrl() + " (" + Hint() +
                                        "): " + res.status().message()};
  }
  return std::move(res).value();
}

std::optional<nlohmann::json> PlatformClient::Metadata(const std::string& endpoint) const {
  auto res =
      http::Fetch(addresses_.GatewayPeer(),
                  http::MakeRequest(bhttp::verb::get, endpoint + "/metadata", "", "", ""), 5s);
  if (!res.ok() || res->result_int() != 200) return std::nullopt;
  auto json = nlohmann::json::parse(res->body(), nullptr, /*allow_exceptions=*/false);
  return json.is_object() ? std::optional(std::move(json)) : std::nullopt;
}

}  // namespace axon::cli
