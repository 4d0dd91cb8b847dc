// How the CLI reaches a platform: the env chosen with `--env NAME`, else the current one
// (cli_envs.h). The env "local" is the platform `axon up` starts: addresses from
// $AXON_HOME/platform.json, the token from $AXON_HOME/token; any other env names its operator
// and gateway URLs and its token. Requests to the operator and the gateway.
// Not thread-safe (the CLI is single-threaded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/axon_home.h"
#include "common/status.h"
#include "http/beast.h"
#include "http/client.h"

namespace axon::cli {

// Exit codes of every verb.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;      // the platform answered with an error
constexpr int kExitBadInput = 2;    // a bad spec, a missing file, bad flags
constexpr int kExitNotRunning = 3;  // the operator is not running

// $AXON_HOME/platform.json: where the platform listens, and whether it speaks TLS.
struct PlatformAddresses {
  std::string operator_host = "127.0.0.1";
  uint16_t operator_port = 8889;
  std::string gateway_host = "127.0.0.1";
  uint16_t gateway_port = 8888;
  uint16_t grpc_port = 8890;  // the gateway's gRPC port; 0: none
  bool tls = false;           // gateway and operator speak HTTPS
  std::string ca_file;        // what the CLI verifies their certificate with ("" = system CAs)
  nlohmann::json ToJson() const;
  static PlatformAddresses FromJson(const nlohmann::json& j);
  std::string GatewayUrl() const;
  http::Peer OperatorPeer() const;
  std::string OperatorUrl() const;  // http(s)://HOST:PORT of OperatorPeer()
  http::Peer GatewayPeer() const;   // 0.0.0.0 reached as 127.0.0.1
};

// The env every PlatformClient uses from now on, instead of the current one (`--env NAME`);
// "" for the current one.
void SelectEnv(std::string name);
// The env PlatformClient uses: the selected one, else the current one of `home`.
std::string SelectedEnv(const AxonHome& home);

// A failed call: the message for stderr and the exit code to return.
struct CliError {
  int exit_code;
  std::string message;
};

class PlatformClient {
 public:
  // `env`: the env to reach; "" for SelectedEnv(). Throws CliError for an env that is not
  // defined or a malformed env file.
  explicit PlatformClient(AxonHome home, std::string env = "");

  const AxonHome& home() const { return home_; }
  const std::string& env() const { return env_; }
  bool local() const { return env_ == "local"; }
  const PlatformAddresses& addresses() const { return addresses_; }

  // Calls the management API; a non-2xx answer becomes a CliError with its "error" text.
  nlohmann::json Call(http::bhttp::verb method, const std::string& target,
                      const nlohmann::json& body = nullptr) const;
  // Sends a prediction request through the gateway; returns the raw response.
  // `api_key`, when not empty, is sent as X-API-Key.
  http::Response Predict(const std::string& endpoint, std::string body,
                         const std::string& content_type, const std::string& api_key = "") const;
  // GET <endpoint>/metadata through the gateway: the model's inputs and outputs, or nullopt
  // when the API has no model to describe or no replica answers.
  std::optional<nlohmann::json> Metadata(const std::string& endpoint) const;
  // True if the operator answers its health check.
  bool OperatorUp() const;
  // The operator's answer to its health check ({"status", "axon_home", "pid"}), if any.
  std::optional<nlohmann::json> OperatorHealth() const;
  // True if the gateway answers its health check.
  bool GatewayUp() const;
  // The link that opens the web dashboard signed in: OPERATOR/login?token=TOKEN.
  std::string DashboardUrl() const;

 private:
  // "(run `axon up`)" locally; what to check for another env.
  std::string Hint() const;

  AxonHome home_;
  std::string env_;
  PlatformAddresses addresses_;
  std::string token_;
};

}  // namespace axon::cli
