#include "operator/gateway_link.h"

#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/process.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

}  // namespace

GatewayLink::GatewayLink(GatewayOptions options) : options_(std::move(options)) {
  auto peer = http::PeerFromListenAddress(options_.flags.admin_listen);
  if (peer.ok()) admin_ = *peer;
}

std::string GatewayLink::address() const {
  return options_.flags.host + ":" + std::to_string(options_.flags.port);
}

bool GatewayLink::Healthy() const {
  auto res = http::Fetch(admin_, http::MakeRequest(bhttp::verb::get, "/_axon/healthz"), 500ms);
  return res.ok() && res->result_int() == 200;
}

// A gateway left running by an earlier operator keeps serving: adopt it, if the pid is still
// the process that was started (not a recycled pid) and it answers on the admin listener.
bool GatewayLink::Adopt() {
  auto saved = ReadFile(options_.state_file);
  if (!saved.ok()) return false;
  const auto state = nlohmann::json::parse(*saved, nullptr, false);
  if (!state.is_object()) return false;
  const pid_t pid = state.value("pid", 0);
  const uint64_t start_time = state.value("start_time", uint64_t{0});
  if (start_time == 0 || state.value("admin_listen", "") != options_.flags.admin_listen ||
      !ProcessAlive(pid, start_time) || !Healthy()) {
    return false;
  }
  spdlog::info("adopted running gateway (pid {})", pid);
  pid_ = pid;
  start_time_ = start_time;
  return true;
}

Status GatewayLink::EnsureRunning() {
  if (pid_ > 0) {
    if (!ReapIfExited(pid_, start_time_)) return OkStatus();
    spdlog::warn("gateway (pid {}) exited; restarting it", pid_);
    pid_ = 0;
    routes_current_ = false;
  }
  if (Adopt()) {
    routes_current_ = false;
    return OkStatus();
  }
  std::vector<std::string> argv{options_.binary.string()};
  for (auto& arg : contract::ToArgs(options_.flags)) argv.push_back(std::move(arg));
  auto pid = SpawnProcess({.argv = std::move(argv), .output_file = options_.log_file});
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  start_time_ = ProcessStartTime(pid_).value_or(0);
  (void)WriteFileAtomic(
      options_.state_file,
      nlohmann::json{
          {"pid", pid_}, {"start_time", start_time_}, {"admin_listen", options_.flags.admin_listen}}
          .dump());
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

Status GatewayLink::Push(const contract::RouteTable& routes) const {
  auto res = http::Fetch(admin_,
                         http::MakeRequest(bhttp::verb::put, "/_axon/routes", options_.token,
                                           contract::ToJson(routes).dump()),
                         2s);
  if (!res.ok()) return res.status();
  if (res->result_int() != 200) return Internal("gateway refused routes: " + res->body());
  return OkStatus();
}

bool GatewayLink::Sync(const contract::RouteTable& routes) {
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

contract::GatewayStats GatewayLink::Stats(int64_t samples_after_unix_ms) const {
  auto res =
      http::Fetch(admin_,
                  http::MakeRequest(bhttp::verb::get,
                                    "/_axon/stats?after=" + std::to_string(samples_after_unix_ms),
                                    options_.token),
                  1s);
  if (!res.ok() || res->result_int() != 200) return {};
  auto stats = contract::GatewayStatsFromJson(nlohmann::json::parse(res->body(), nullptr, false));
  if (!stats.ok()) {
    spdlog::warn("unreadable gateway statistics: {}", stats.status().message());
    return {};
  }
  return std::move(stats).value();
}

StatusOr<int64_t> GatewayLink::WaitForHeld(int64_t after, std::chrono::milliseconds wait) const {
  auto res = http::Fetch(admin_,
                         http::MakeRequest(bhttp::verb::get,
                                           "/_axon/held?after=" + std::to_string(after) +
                                               "&wait_ms=" + std::to_string(wait.count()),
                                           options_.token),
                         wait + 1s);
  if (!res.ok()) return res.status();
  if (res->result_int() != 200) {
    return Unavailable("GET /_axon/held: the gateway answered " +
                       std::to_string(res->result_int()));
  }
  const auto json = nlohmann::json::parse(res->body(), nullptr, false);
  if (!json.is_object() || !json.contains("held") || !json["held"].is_number_integer()) {
    return Internal("GET /_axon/held: unreadable answer from the gateway");
  }
  return json["held"].get<int64_t>();
}

std::string GatewayLink::Metrics() const {
  auto res = http::Fetch(admin_,
                         http::MakeRequest(bhttp::verb::get, "/_axon/metrics", options_.token), 1s);
  if (!res.ok() || res->result_int() != 200) return {};
  return res->body();
}

void GatewayLink::Stop() {
  if (pid_ <= 0) return;
  TerminateProcess(pid_, std::chrono::milliseconds(options_.flags.drain_ms));
  std::error_code ec;
  std::filesystem::remove(options_.state_file, ec);
  pid_ = 0;
}

}  // namespace axon::operator_
