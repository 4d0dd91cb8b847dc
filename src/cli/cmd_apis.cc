// axon get | describe | refresh | rollback | delete (deploy: cmd_deploy.cc; logs: cmd_logs.cc)
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/multi_model_view.h"
#include "cli/platform_client.h"
#include "cli/table.h"

namespace axon::cli {
namespace {

namespace bhttp = http::bhttp;
using namespace std::chrono_literals;

PlatformClient Client() { return PlatformClient(AxonHome::FromEnvironment()); }

std::string Count(const nlohmann::json& api, const char* key) {
  return std::to_string(api.value(key, 0ULL));
}

// "12.5 ms" from a field in milliseconds; "-" when it is null (no request yet).
std::string Millis(const nlohmann::json& api, const char* key) {
  const auto it = api.find(key);
  return it != api.end() && it->is_number() ? fmt::format("{:.3g} ms", it->get<double>()) : "-";
}

std::string AvgRequest(const nlohmann::json& api) { return Millis(api, "avg_request_ms"); }

std::string RequestsPerSecond(const nlohmann::json& api) {
  return fmt::format("{:.3g}", api.value("requests_per_s", 0.0));
}

bool IsSplitter(const nlohmann::json& api) { return api.value("kind", "") == "TrafficSplitter"; }

// "7/7" batches done of a job (succeeded and failed).
std::string JobProgress(const nlohmann::json& job) {
  const auto& m = job["metrics"];
  return fmt::format("{}/{}", m["succeeded"].get<int64_t>() + m["failed"].get<int64_t>(),
                     job["total_batches"].get<int64_t>());
}

// The jobs of a BatchAPI or TaskAPI, newest first.
void PrintJobTable(std::ostream& out, const nlohmann::json& jobs) {
  if (jobs.empty()) {
    out << "no jobs yet (submit one with POST to the endpoint)\n";
    return;
  }
  Table table({"job id", "status", "batches done", "failed", "workers", "created"});
  for (const auto& job : jobs) {
    table.AddRow({job["job_id"], job["status_text"], JobProgress(job),
                  std::to_string(job["metrics"]["failed"].get<int64_t>()),
                  std::to_string(job["workers"].get<int64_t>()), job["created_time"]});
  }
  table.Print(out);
}

// `axon get API JOB_ID`: one job.
void PrintJob(std::ostream& out, const nlohmann::json& job) {
  const auto& m = job["metrics"];
  const auto& w = job["worker_counts"];
  out << "job " << job["job_id"].get<std::string>() << " of api "
      << job["api_name"].get<std::string>() << " (" << job["kind"].get<std::string>()
      << "): " << job["status_text"].get<std::string>() << "\n";
  out << fmt::format("batches: {} ({} succeeded, {} failed, {} in queue)",
                     job["total_batches"].get<int64_t>(), m["succeeded"].get<int64_t>(),
                     m["failed"].get<int64_t>(), job["batches_in_queue"].get<int64_t>());
  if (m["avg_time_per_batch"].is_number()) {
    out << fmt::format(", {:.3g} s per batch on average", m["avg_time_per_batch"].get<double>());
  }
  out << fmt::format("\nworkers: {} ({} initializing, {} running, {} restarting)\n",
                     job["workers"].get<int64_t>(), w["initializing"].get<int64_t>(),
                     w["running"].get<int64_t>(), w["restarting"].get<int64_t>());
  out << "created: " << job["created_time"].get<std::string>();
  if (job.contains("start_time")) out << ", started: " << job["start_time"].get<std::string>();
  if (job.contains("end_time")) out << ", ended: " << job["end_time"].get<std::string>();
  out << "\n";
  if (job.contains("timeout")) out << "timeout: " << job["timeout"] << " s\n";
  if (job.contains("error")) out << "error: " << job["error"].get<std::string>() << "\n";
  if (job.contains("failed_batches") && !job["failed_batches"].empty()) {
    out << "failed batches:\n";
    for (const auto& b : job["failed_batches"]) {
      out << "  " << b["batch_id"].get<std::string>() << ": " << b["error"].get<std::string>()
          << "\n";
    }
  }
}

// "a:90 b:10 c (shadow):100", as Cortex lists a splitter's APIs.
std::string SplitList(const nlohmann::json& splitter) {
  std::string out;
  for (const auto& t : splitter["apis"]) {
    if (!out.empty()) out += " ";
    out += t["name"].get<std::string>() + (t["shadow"].get<bool>() ? " (shadow)" : "") + ":" +
           std::to_string(t["weight"].get<int64_t>());
  }
  return out;
}

void PrintSplitterTable(std::ostream& out, const nlohmann::json& splitters) {
  Table table({"traffic splitter", "status", "apis", "last update", "avg request", "p50", "p99",
               "req/s", "2XX", "4XX", "5XX"});
  for (const auto& s : splitters) {
    table.AddRow({s["name"], s["status"], SplitList(s), Ago(s["last_update"].get<int64_t>()),
                  AvgRequest(s), Millis(s, "p50_ms"), Millis(s, "p99_ms"), RequestsPerSecond(s),
                  Count(s, "requests_2xx"), Count(s, "requests_4xx"), Count(s, "requests_5xx")});
  }
  table.Print(out);
}

// One row per API of the splitter, with its weight and its own statistics.
void PrintSplitTargets(std::ostream& out, const nlohmann::json& splitter,
                       const nlohmann::json& all) {
  Table table(
      {"api", "weight", "status", "up-to-date", "requested", "avg request", "2XX", "4XX", "5XX"});
  for (const auto& t : splitter["apis"]) {
    const std::string name = t["name"];
    nlohmann::json api = nlohmann::json::object();
    for (const auto& a : all) {
      if (a["name"] == name) api = a;
    }
    const std::string label = name + (t["shadow"].get<bool>() ? " (shadow)" : "");
    if (api.empty()) {
      table.AddRow({label, std::to_string(t["weight"].get<int64_t>()), "not deployed", "-", "-",
                    "-", "-", "-", "-"});
      continue;
    }
    table.AddRow({label, std::to_string(t["weight"].get<int64_t>()), api["status"],
                  std::to_string(api["up_to_date"].get<int64_t>()),
                  std::to_string(api["requested"].get<int64_t>()), AvgRequest(api),
                  Count(api, "requests_2xx"), Count(api, "requests_4xx"),
                  Count(api, "requests_5xx")});
  }
  table.Print(out);
}

// avg request and 2XX/4XX/5XX count every answer since the API was deployed; p50, p99 and
// req/s the last minute.
void PrintApiTable(std::ostream& out, const nlohmann::json& apis) {
  Table table({"api", "status", "up-to-date", "requested", "last update", "avg request", "p50",
               "p99", "req/s", "2XX", "4XX", "5XX"});
  for (const auto& api : apis) {
    table.AddRow({api["name"], api["status"], std::to_string(api["up_to_date"].get<int64_t>()),
                  std::to_string(api["requested"].get<int64_t>()),
                  Ago(api["last_update"].get<int64_t>()), AvgRequest(api), Millis(api, "p50_ms"),
                  Millis(api, "p99_ms"), RequestsPerSecond(api), Count(api, "requests_2xx"),
                  Count(api, "requests_4xx"), Count(api, "requests_5xx")});
  }
  table.Print(out);
}

// The tables of `axon get [NAME]`.
void PrintGet(std::ostream& out, const PlatformClient& client, const std::string& name) {
  const auto result = client.Call(bhttp::verb::get, name.empty() ? "/v1/apis" : "/v1/apis/" + name);
  if (name.empty() && result.empty()) {
    out << "no apis are deployed (deploy one with `axon deploy axon.yaml`)\n";
    return;
  }
  if (name.empty()) {
    nlohmann::json realtime = nlohmann::json::array(), splitters = nlohmann::json::array();
    for (const auto& api : result) (IsSplitter(api) ? splitters : realtime).push_back(api);
    if (!realtime.empty()) PrintApiTable(out, realtime);
    if (!realtime.empty() && !splitters.empty()) out << "\n";
    if (!splitters.empty()) PrintSplitterTable(out, splitters);
    return;
  }
  if (IsSplitter(result)) {
    PrintSplitterTable(out, nlohmann::json::array({result}));
    out << "\n";
    PrintSplitTargets(out, result, client.Call(bhttp::verb::get, "/v1/apis"));
  } else {
    PrintApiTable(out, nlohmann::json::array({result}));
  }
  if (result.contains("jobs")) {  // a BatchAPI or TaskAPI
    out << "\n";
    PrintJobTable(out, result["jobs"]);
  }
  out << "\nendpoint: " << client.addresses().GatewayUrl() << result["endpoint"].get<std::string>()
      << "\n";
  if (!result["reason"].get<std::string>().empty()) {
    out << "reason: " << result["reason"].get<std::string>() << "\n";
  }
}

constexpr auto kWatchInterval = 2s;

// `axon get -w`: the tables again every kWatchInterval until interrupted (Ctrl-C ends the
// process) or a call fails. On a terminal each refresh replaces the last one on the screen;
// otherwise the refreshes follow one another, separated by a blank line.
void Watch(const PlatformClient& client, const std::string& name) {
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  for (bool first = true;; first = false) {
    std::ostringstream frame;
    PrintGet(frame, client, name);
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%S", &local);
    frame << "\n" << clock << ", every " << kWatchInterval.count() << "s (Ctrl-C to stop)\n";
    if (terminal) {
      std::cout << "\x1b[H\x1b[2J";  // cursor home, clear the screen
    } else if (!first) {
      std::cout << "\n";
    }
    std::cout << frame.str() << std::flush;
    std::this_thread::sleep_for(kWatchInterval);
  }
}

void Get(const std::string& name, const std::string& job, const std::string& output, bool watch) {
  const auto client = Client();
  if (!job.empty()) {
    if (watch || output == "name") {
      throw CliError{kExitBadInput, "a job is shown once, as a table or -o json"};
    }
    const auto result = client.Call(bhttp::verb::get, "/v1/apis/" + name + "/jobs/" + job);
    if (output == "json") {
      std::cout << result.dump(2) << "\n";
    } else {
      PrintJob(std::cout, result);
    }
    return;
  }
  if (watch) {
    if (output != "table") {
      throw CliError{kExitBadInput, "--watch prints tables; leave out -o/--output"};
    }
    Watch(client, name);
    return;
  }
  if (output == "table") {
    PrintGet(std::cout, client, name);
    return;
  }
  const auto result = client.Call(bhttp::verb::get, name.empty() ? "/v1/apis" : "/v1/apis/" + name);
  if (output == "json") {
    std::cout << result.dump(2) << "\n";
    return;
  }
  // "name": one name per line, for scripts and shell completion
  for (const auto& api : name.empty() ? result : nlohmann::json::array({result})) {
    std::cout << api["name"].get<std::string>() << "\n";
  }
}

// "  image  float32  [-1, 3, 32, 32]" per tensor of a metadata answer.
void PrintTensors(const char* title, const nlohmann::json& tensors) {
  std::cout << title << "\n";
  for (const auto& t : tensors) {
    std::string shape = "unknown shape";
    if (t["shape"].is_array()) {
      shape = "[";
      for (const auto& d : t["shape"]) shape += (shape.size() > 1 ? ", " : "") + d.dump();
      shape += "]";
    }
    std::cout << fmt::format("  {:<12} {:<8} {}\n", t["name"].get<std::string>(),
                             t["dtype"].get<std::string>(), shape);
  }
}

void PrintModel(const nlohmann::json& model) {
  const std::string name = model.value("name", "");
  std::cout << "\nmodel" << (name.empty() ? "" : " " + name) << ": "
            << model["type"].get<std::string>();
  if (model["model_version"].get<int64_t>() > 0) {
    std::cout << " (version " << model["model_version"] << ")";
  }
  std::cout << "\n";
  PrintTensors("inputs:", model["inputs"]);
  PrintTensors("outputs:", model["outputs"]);
}

// "batching: 120 batches, 5.2 requests each on average (p50 4.7, p99 8); batch queue wait
// p50 0.31 ms, p99 2.1 ms", from the `batching` of GET /v1/apis/NAME.
std::string BatchingLine(const nlohmann::json& b) {
  const auto size = [&](const char* key) {
    return b[key].is_number() ? fmt::format("{:.3g}", b[key].get<double>()) : std::string("-");
  };
  if (b.value("batches", uint64_t{0}) == 0) return "batching: no batch yet";
  return fmt::format(
      "batching: {} batches, {} requests each on average (p50 {}, p99 {}); batch queue wait p50 "
      "{}, p99 {}",
      b["batches"].get<uint64_t>(), size("mean_batch_size"), size("p50_batch_size"),
      size("p99_batch_size"), Millis(b, "p50_queue_wait_ms"), Millis(b, "p99_queue_wait_ms"));
}

void Describe(const std::string& name) {
  const auto client = Client();
  const auto api = client.Call(bhttp::verb::get, "/v1/apis/" + name);
  PrintApiTable(std::cout, nlohmann::json::array({api}));
  std::cout << "\nendpoint: " << client.addresses().GatewayUrl()
            << api["endpoint"].get<std::string>() << "\nversion:  " << api["version"]
            << "\nin flight: " << api["in_flight"] << "\n";
  if (const auto scaling = api.value("autoscaling", std::string()); !scaling.empty()) {
    std::cout << "autoscaling: " << scaling << "\n";
  }
  if (const auto batching = api.value("batching", nlohmann::json()); batching.is_object()) {
    std::cout << BatchingLine(batching) << "\n";
  }
  if (!api["error"].get<std::string>().empty()) {
    std::cout << "\nerror: " << api["error"].get<std::string>() << "\n";
  }
  Table replicas(
      {"replica", "version", "state", "pid", "port", "in flight", "restarts", "last failure"});
  for (const auto& r : api["replicas"]) {
    replicas.AddRow({r["id"], std::to_string(r["version"].get<int64_t>()), r["state"],
                     std::to_string(r["pid"].get<int64_t>()),
                     r["port"].get<int>() == 0 ? "-" : std::to_string(r["port"].get<int>()),
                     std::to_string(r["in_flight"].get<int64_t>()),
                     std::to_string(r["restarts"].get<int>()),
                     r["last_failure"].get<std::string>().empty() ? "-" : r["last_failure"]});
  }
  std::cout << "\n";
  replicas.Print(std::cout);
  if (api.contains("jobs")) {  // a BatchAPI or TaskAPI: its replicas are its jobs' workers
    std::cout << "\n";
    PrintJobTable(std::cout, api["jobs"]);
  }
  if (auto metadata = client.Metadata(api["endpoint"].get<std::string>())) {
    if (metadata->contains("multi_model")) {
      PrintMultiModel(std::cout, (*metadata)["multi_model"]);
    } else if (metadata->contains("models")) {
      for (const auto& model : (*metadata)["models"]) PrintModel(model);
    } else {
      metadata->erase("name");  // the API's name; a native predictor's model has none
      PrintModel(*metadata);
    }
  }
}

void Rollback(const std::string& name, int64_t version) {
  const auto results = Client().Call(bhttp::verb::post,
                                     fmt::format("/v1/apis/{}/rollback?version={}", name, version));
  for (const auto& r : results) {
    std::cout << "rolled back api " << name << ": version " << r["version"]
              << " runs the spec and predictor of "
              << (version > 0 ? "version " + std::to_string(version) : "the previous version")
              << "\n";
  }
}

void Simple(bhttp::verb method, const std::string& name, const std::string& suffix,
            const std::string& done) {
  Client().Call(method, "/v1/apis/" + name + suffix);
  std::cout << done << " api " << name << "\n";
}

}  // namespace

void AddApiCommands(CLI::App& app) {
  AddDeployCommand(app);

  auto name = std::make_shared<std::string>();
  auto job = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("table");
  auto watch = std::make_shared<bool>(false);
  auto* get = app.add_subcommand(
      "get",
      "list APIs with status and request statistics (avg request and 2XX/4XX/5XX since the API "
      "was deployed; p50, p99 and req/s over the last minute)");
  get->add_option("api", *name, "one API only (a BatchAPI or TaskAPI: with its jobs)");
  get->add_option("job", *job, "one job of that BatchAPI or TaskAPI: its status and progress");
  get->add_option("-o,--output", *output, "table, json, or name (one API name per line)")
      ->check(CLI::IsMember({"table", "json", "name"}))
      ->capture_default_str();
  get->add_flag("-w,--watch", *watch,
                "refresh the table every 2 s (in place on a terminal) until Ctrl-C");
  get->callback([name, job, output, watch] { Get(*name, *job, *output, *watch); });

  auto* describe = app.add_subcommand("describe", "show an API and each of its replicas");
  describe->add_option("api", *name, "the API")->required();
  describe->callback([name] { Describe(*name); });

  AddLogsCommand(app);

  auto* refresh = app.add_subcommand("refresh", "restart an API's replicas (new before old stop)");
  refresh->add_option("api", *name, "the API")->required();
  refresh->callback([name] { Simple(bhttp::verb::post, *name, "/refresh", "refreshing"); });

  auto version = std::make_shared<int64_t>(0);
  auto* rollback = app.add_subcommand(
      "rollback", "roll an API back to an earlier version's spec and predictor (as a new version)");
  rollback->add_option("api", *name, "the API")->required();
  rollback->add_option("version", *version, "the version to return to (default: the previous)");
  rollback->callback([name, version] { Rollback(*name, *version); });

  auto* del = app.add_subcommand("delete", "delete an API and stop its replicas");
  del->add_option("api", *name, "the API")->required();
  del->callback([name] { Simple(bhttp::verb::delete_, *name, "", "deleted"); });
}

}  // namespace axon::cli
