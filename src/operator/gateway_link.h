// The operator's side of the gateway: keeps the gateway process running (restarting it when it
// dies, adopting one left by an earlier operator), pushes route tables, reads statistics.
//
// Threading: Sync() and Stop() from the reconcile thread only; Stats() from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::operator_ {

struct GatewayOptions {
  std::filesystem::path binary;
  std::string host = "127.0.0.1";
  uint16_t port = 8888;
  uint16_t grpc_port = 8890;  // the Open Inference Protocol over gRPC; 0: none
  int threads = 2;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds drain{30'000};  // how long the gateway drains on SIGTERM
  std::chrono::milliseconds sample{1000};   // how often it samples in-flight requests
  std::filesystem::path token_file;
  std::string token;
  std::filesystem::path routes_file;
  std::filesystem::path pid_file;
  std::filesystem::path log_file;
};

class GatewayLink {
 public:
  explicit GatewayLink(GatewayOptions options) : options_(std::move(options)) {}

  // Makes sure the gateway runs and serves `routes`. Pushes only what changed. Returns true
  // when the gateway is known to serve exactly `routes`.
  bool Sync(const nlohmann::json& routes);
  // Per-API statistics from the gateway, with in-flight samples newer than
  // `samples_after_unix_ms`; an empty object if it cannot be reached.
  nlohmann::json Stats(int64_t samples_after_unix_ms = 0) const;
  // Stops the gateway, letting requests in flight finish within `drain`.
  void Stop(std::chrono::milliseconds drain);

  std::string address() const { return options_.host + ":" + std::to_string(options_.port); }
  pid_t pid() const { return pid_; }

 private:
  Status EnsureRunning();
  std::string ConnectHost() const;  // where to reach the gateway from this machine
  bool Healthy() const;
  Status Push(const nlohmann::json& routes) const;

  const GatewayOptions options_;
  pid_t pid_ = 0;
  bool routes_current_ = false;
  nlohmann::json pushed_routes_;
};

}  // namespace axon::operator_
