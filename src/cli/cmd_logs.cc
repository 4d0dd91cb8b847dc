// axon logs: an API's log lines (common/log_line.h), or one job's, rendered for a terminal or
// printed as they are (-o json), filtered by time (--since) and replica (--replica), and followed
// (-f) across replica restarts: every replica of the API, old and new, appends to the same file,
// which the operator serves piece by piece, its rotated copies included (operator/api_logs.h).
// An operator on Kubernetes answers the same queries from the replica pods' logs instead
// (operator/pod_logs.h); `next` is then a time cursor, which this loop passes back the same way.
#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/durations.h"
#include "cli/platform_client.h"
#include "common/log_line.h"
#include "http/url.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
namespace bhttp = http::bhttp;

struct LogsOptions {
  std::string api;
  bool follow = false;
  int64_t tail = 100;
  bool tail_given = false;
  std::string since;
  std::string replica;
  std::string job;
  std::string output = "text";
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PrintLines(std::string_view text, bool raw) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (raw) {
      std::cout << line << "\n";
    } else {
      std::cout << HumanLogLine(ParseLogLine(line)) << "\n";
    }
  }
  std::cout << std::flush;
}

void Logs(const LogsOptions& o) {
  int64_t since_ms = 0;
  if (!o.since.empty()) {
    auto since = SinceUnixMs(o.since, NowMs());
    if (!since.ok()) throw CliError{kExitBadInput, since.status().message()};
    since_ms = *since;
  }
  const PlatformClient client(AxonHome::FromEnvironment());
  std::string filters;
  if (since_ms > 0) filters += fmt::format("&since_ms={}", since_ms);
  if (!o.replica.empty()) filters += "&replica=" + http::PercentEncode(o.replica);
  if (!o.job.empty()) filters += "&job=" + http::PercentEncode(o.job);
  const std::string base = "/v1/apis/" + o.api + "/logs?";
  const bool raw = o.output == "json";
  auto chunk = client.Call(bhttp::verb::get,
                           since_ms > 0 && !o.tail_given
                               ? base + "from=start" + filters  // every line since then
                               : fmt::format("{}tail={}{}", base, o.tail, filters));
  PrintLines(chunk["text"].get<std::string>(), raw);
  // The rest of what is there now, a chunk at a time; then follow until interrupted or until
  // the API goes away (bounded by nothing but the user).
  for (;;) {
    if (!chunk["more"].get<bool>()) {
      if (!o.follow) break;
      std::this_thread::sleep_for(500ms);
    }
    chunk = client.Call(bhttp::verb::get, base + chunk["next"].get<std::string>() + filters);
    PrintLines(chunk["text"].get<std::string>(), raw);
  }
}

}  // namespace

void AddLogsCommand(CLI::App& app) {
  auto o = std::make_shared<LogsOptions>();
  auto* logs = app.add_subcommand(
      "logs",
      "print an API's logs: its replicas' lines (what the predictor prints, too) and, with "
      "`logging: {requests: true}`, one line per request");
  logs->add_option("api", o->api, "the API")->required();
  logs->add_option("job", o->job,
                   "a job of a BatchAPI or TaskAPI: the lines of its workers (see axon get API)");
  logs->add_flag("-f,--follow", o->follow,
                 "keep printing new lines, from every replica, across restarts (Ctrl-C to stop)");
  auto* tail = logs->add_option("--tail", o->tail,
                                "how many past lines to print first (default 100; "
                                "with --since: every line since then)");
  logs->add_option("--since", o->since,
                   "only lines of the last DURATION, e.g. 30s, 10m, 2h, 1h30m");
  logs->add_option("--replica", o->replica, "only the lines of this replica (see axon describe)");
  logs->add_option("-o,--output", o->output,
                   "text (one readable line each) or json (the lines as stored: JSON lines, and "
                   "any line a native library printed as it is)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  logs->callback([o, tail] {
    o->tail_given = tail->count() > 0;
    Logs(*o);
  });
}

}  // namespace axon::cli
