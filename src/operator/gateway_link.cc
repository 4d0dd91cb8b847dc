#include "operator/gateway_link.h"

#include <thread>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/process.h"
#include "http/client.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

}  // namespace

std::string GatewayLink::ConnectHost() const {
  return options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
}

bool GatewayLink::Healthy() const {
  auto res = http::Fetch(ConnectHost(), options_.port,
                         http::MakeRequest(bhttp::verb::get, "/_axon/healthz"), 500ms);
  return res.ok() && res->result_int() == 200;
}

Status GatewayLink::EnsureRunning() {
  if (pid_ > 0) {
    if (!ReapIfExited(pid_)) return OkStatus();
    spdlog::warn("gateway (pid {}) exited; restarting it", pid_);
    pid_ = 0;
    routes_current_ = false;
  }
  // A gateway left running by an earlier operator keeps serving: adopt it.
  if (auto saved = ReadFile(options_.pid_file); saved.ok()) {
    const pid_t old = static_cast<pid_t>(std::atoll(saved->c_str()));
    if (ProcessAlive(old) && Healthy()) {
      spdlog::info("adopted running gateway (pid {})", old);
      pid_ = old;
      routes_current_ = false;
      return OkStatus();
    }
  }
  auto pid = SpawnProcess(
      {.argv = {options_.binary.string(), "--host", options_.host, "--port",
                std::to_string(options_.port), "--grpc-port", std::to_string(options_.grpc_port),
                "--threads", std::to_string(options_.threads), "--max-body-bytes",
                std::to_string(options_.max_body_bytes), "--token-file",
                options_.token_file.string(), "--routes-file", options_.routes_file.string()},
       .output_file = options_.log_file});
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  (void)WriteFileAtomic(options_.pid_file, std::to_string(pid_));
  for (int i = 0; i < 100; ++i) {
    if (Healthy()) {
      spdlog::info("gateway started (pid {}) on {}", pid_, address());
      return OkStatus();
    }
    if (auto exit = ReapIfExited(pid_)) {
      pid_ = 0;
      return Unavailable("gateway exited at start (" + *exit + "); see " +
                         options_.log_file.string());
    }
    std::this_thread::sleep_for(50ms);
  }
  return Unavailable("gateway did not become healthy on " + address());
}

Status GatewayLink::Push(const nlohmann::json& routes) const {
  auto res = http::Fetch(
      ConnectHost(), options_.port,
      http::MakeRequest(bhttp::verb::put, "/_axon/routes", options_.token, routes.dump()), 2s);
  if (!res.ok()) return res.status();
  if (res->result_int() != 200) return Internal("gateway refused routes: " + res->body());
  return OkStatus();
}

bool GatewayLink::Sync(const nlohmann::json& routes) {
  if (Status s = EnsureRunning(); !s.ok()) {
    spdlog::error("{}", s.message());
    return false;
  }
  if (routes_current_ && routes == pushed_routes_) return true;
  if (Status s = Push(routes); !s.ok()) {
    spdlog::warn("cannot push routes to gateway: {}", s.message());
    routes_current_ = false;
    return false;
  }
  pushed_routes_ = routes;
  routes_current_ = true;
  return true;
}

nlohmann::json GatewayLink::Stats(int64_t samples_after_unix_ms) const {
  auto res =
      http::Fetch(ConnectHost(), options_.port,
                  http::MakeRequest(bhttp::verb::get,
                                    "/_axon/stats?after=" + std::to_string(samples_after_unix_ms),
                                    options_.token),
                  1s);
  if (!res.ok() || res->result_int() != 200) return nlohmann::json::object();
  auto json = nlohmann::json::parse(res->body(), nullptr, false);
  return json.is_object() ? json.value("apis", nlohmann::json::object()) : nlohmann::json::object();
}

void GatewayLink::Stop(std::chrono::milliseconds drain) {
  if (pid_ <= 0) return;
  TerminateProcess(pid_, drain);
  std::error_code ec;
  std::filesystem::remove(options_.pid_file, ec);
  pid_ = 0;
}

}  // namespace axon::operator_
