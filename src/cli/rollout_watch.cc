#include "cli/rollout_watch.h"

#include <thread>

#include <fmt/format.h>

#include "common/text.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kPollEvery = 250ms;

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t s = d.count() / 1000;
  if (s >= 60 && s % 60 == 0) return fmt::format("{}m", s / 60);
  if (s > 0) return fmt::format("{}s", s);
  return fmt::format("{}ms", d.count());
}

// Redraws `lines` in place of the ones drawn before (`drawn` of them).
void Redraw(const std::vector<std::string>& lines, size_t& drawn, std::ostream& out) {
  if (drawn > 0) out << "\x1b[" << drawn << "A";
  for (const auto& line : lines) out << "\r\x1b[2K" << line << "\n";
  drawn = lines.size();
  out << std::flush;
}

}  // namespace

std::string RolloutLine(const RolloutState& s) {
  if (s.status.empty()) return s.api + ": waiting for the operator";
  if (s.status == "error") return s.api + ": error: " + s.reason;
  if (s.splitter) return s.api + ": " + s.status;
  return fmt::format("{}: {}/{} ready, {}", s.api, s.ready, s.wanted, s.status);
}

void UpdateRollout(const nlohmann::json& apis, std::vector<RolloutState>& states) {
  for (auto& state : states) {
    if (state.status == "error") continue;  // failed: stays failed for this deploy
    const nlohmann::json* found = nullptr;
    for (const auto& api : apis) {
      if (api.value("name", "") == state.api) found = &api;
    }
    if (found == nullptr) {
      state.status = "error";
      state.reason = "the API was deleted while it rolled out";
      continue;
    }
    state.status = found->value("status", "");
    state.ready = found->value("up_to_date", int64_t{0});
    state.wanted = found->value("requested", int64_t{0});
    state.splitter = found->value("kind", "") == "TrafficSplitter";
    state.reason = FirstLine(found->value("reason", ""));
    if (state.status == "error" && state.reason.empty()) state.reason = "(no reason recorded)";
  }
}

void WatchRollout(const PlatformClient& client, const std::vector<std::string>& apis,
                  std::chrono::milliseconds timeout, bool terminal, std::ostream& out) {
  std::vector<RolloutState> states;
  for (const auto& api : apis) states.push_back({.api = api});
  std::vector<std::string> printed(states.size());  // the last line shown per API
  size_t drawn = 0;
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    UpdateRollout(client.Call(http::bhttp::verb::get, "/v1/apis"), states);
    std::vector<std::string> lines;
    for (const auto& s : states) lines.push_back(RolloutLine(s));
    if (terminal) {
      Redraw(lines, drawn, out);
    } else {
      for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i] != printed[i]) out << lines[i] << "\n" << std::flush;
      }
    }
    printed = lines;
    bool all_done = true;
    for (const auto& s : states) all_done = all_done && s.Done();
    if (all_done || SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollEvery);
  }
  std::vector<std::string> failed, pending;
  for (const auto& s : states) {
    if (s.status == "error") failed.push_back(s.api + ": " + s.reason);
    if (!s.Done()) pending.push_back(RolloutLine(s));
  }
  std::string message;
  for (const auto& f : failed) message += (message.empty() ? "" : "\n") + ("api " + f);
  if (!pending.empty()) {
    message +=
        (message.empty() ? "" : "\n") +
        fmt::format("timed out after {} waiting for the rollout of ", FormatDuration(timeout));
    for (size_t i = 0; i < pending.size(); ++i) message += (i > 0 ? ", " : "") + pending[i];
    message += "; it goes on: see `axon get`";
  }
  if (!message.empty()) throw CliError{kExitFailed, message};
}

}  // namespace axon::cli
