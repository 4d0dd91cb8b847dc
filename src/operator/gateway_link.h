// The operator's side of the gateway: keeps the gateway process running (restarting it when it
// dies, adopting one left by an earlier operator after checking it is the process that was
// started), pushes route tables and reads statistics over the gateway's admin listener.
//
// Threading: Sync() and Stop() from the reconcile thread only (they may block up to ~5 s while
// a gateway starts); Stats() and Metrics() from any thread (block up to 1 s); WaitForHeld()
// from any thread (blocks up to its wait and 1 s more).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "common/status.h"
#include "contract/flags.h"
#include "contract/routes.h"
#include "contract/stats.h"
#include "http/client.h"
#include "operator/gateways.h"

namespace axon::operator_ {

struct GatewayOptions {
  std::filesystem::path binary;
  contract::GatewayFlags flags;  // what the gateway is started with
  std::string token;
  std::filesystem::path state_file;  // run/gateway.json: pid, start time, admin address
  std::filesystem::path log_file;
};

class GatewayLink final : public Gateways {
 public:
  explicit GatewayLink(GatewayOptions options);

  // Makes sure the gateway process runs and serves `routes`.
  bool Sync(const contract::RouteTable& routes) override;
  contract::GatewayStats Stats(int64_t samples_after_unix_ms) const override;
  std::string Metrics() const override;
  // GET /_axon/held on the gateway's admin listener.
  StatusOr<int64_t> WaitForHeld(int64_t after, std::chrono::milliseconds wait) const override;
  // Stops the gateway, letting requests in flight finish within the drain time.
  void Stop() override;

  std::string address() const override;
  pid_t pid() const { return pid_; }

 private:
  Status EnsureRunning();
  bool Adopt();
  bool Healthy() const;
  Status Push(const contract::RouteTable& routes) const;

  const GatewayOptions options_;
  http::Peer admin_;
  pid_t pid_ = 0;
  uint64_t start_time_ = 0;
  bool routes_current_ = false;
  contract::RouteTable pushed_routes_;
};

}  // namespace axon::operator_
