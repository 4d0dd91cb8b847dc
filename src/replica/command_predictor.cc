#include "replica/command_predictor.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/process.h"
#include "http/client.h"

namespace axon::replica {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kPollInterval = 100ms;
constexpr auto kProbeTimeout = 1s;
constexpr auto kStopGrace = 5s;

// A loopback port that was free a moment ago (bound to port 0, then closed).
StatusOr<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) return Internal("no free loopback port for the command");
  return port;
}

// `program` as given when it names a path, else the first executable of that name on PATH.
StatusOr<std::string> FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return InvalidArgument("predictor.command: program \"" + program +
                         "\" not found on PATH; give its path, or install it");
}

http::Request Forwarded(const PredictRequest& request) {
  const std::string target = request.query.empty() ? "/" : "/?" + std::string(request.query);
  http::Request out =
      http::MakeRequest(request.is_get ? http::bhttp::verb::get : http::bhttp::verb::post, target,
                        {}, std::string(request.body));
  for (const auto& [name, value] : request.headers) {
    const auto field = http::bhttp::string_to_field(name);
    if (field == http::bhttp::field::host || field == http::bhttp::field::content_length ||
        field == http::bhttp::field::connection || field == http::bhttp::field::keep_alive ||
        field == http::bhttp::field::transfer_encoding || field == http::bhttp::field::upgrade) {
      continue;
    }
    out.set(name, value);
  }
  return out;
}

class CommandPredictor final : public Predictor {
 public:
  CommandPredictor(pid_t pid, int port, const CommandOptions& options)
      : pid_(pid), port_(static_cast<uint16_t>(port)), timeout_(options.request_timeout) {
    watcher_ = std::thread([this, on_exit = options.on_exit] { Watch(on_exit); });
  }
  ~CommandPredictor() override {
    stopping_ = true;
    watcher_.join();
    if (!exited_) TerminateProcess(pid_, kStopGrace);
  }
  CommandPredictor(const CommandPredictor&) = delete;
  CommandPredictor& operator=(const CommandPredictor&) = delete;

  PredictResponse Predict(const PredictRequest& request) override {
    auto answer = http::Fetch("127.0.0.1", port_, Forwarded(request), timeout_);
    if (!answer.ok()) {
      PredictResponse failed = PredictResponse::Error(502, "the API's server did not answer");
      failed.log_detail = "the command's server did not answer: " + answer.status().message();
      return failed;
    }
    PredictResponse out;
    out.status = answer->result_int();
    out.content_type = std::string((*answer)[http::bhttp::field::content_type]);
    if (out.content_type.empty()) out.content_type = "application/octet-stream";
    out.body = std::move(answer->body());
    return out;
  }

 private:
  void Watch(const std::function<void(const std::string&)>& on_exit) {
    while (!stopping_) {
      if (auto how = ReapIfExited(pid_)) {
        exited_ = true;
        spdlog::error("the command's server exited ({})", *how);
        if (on_exit) on_exit(*how);
        return;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  const pid_t pid_;
  const uint16_t port_;
  const std::chrono::milliseconds timeout_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> exited_{false};
  std::thread watcher_;
};

// Whether the server at `port` is ready: any HTTP answer to GET /, or a 2XX/3XX answer to the
// readiness path.
bool Ready(uint16_t port, const std::string& readiness_path) {
  const std::string target = readiness_path.empty() ? "/" : readiness_path;
  auto res = http::Fetch("127.0.0.1", port, http::MakeRequest(http::bhttp::verb::get, target),
                         kProbeTimeout);
  if (!res.ok()) return false;
  return readiness_path.empty() || (res->result_int() >= 200 && res->result_int() < 400);
}

// Waits for the started server; stops it on a stop request.
Status AwaitReady(pid_t pid, int port, const CommandOptions& options) {
  for (;;) {
    if (auto how = ReapIfExited(pid)) {
      return InvalidArgument("predictor.command: the command exited (" + *how +
                             ") before it was ready on port " + std::to_string(port) +
                             " ($AXON_PORT); see the API's log");
    }
    if (options.stop_requested && options.stop_requested()) {
      TerminateProcess(pid, kStopGrace);
      return Unavailable("stopped while the command was starting");
    }
    if (Ready(static_cast<uint16_t>(port), options.command.readiness_path)) return OkStatus();
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

StatusOr<std::unique_ptr<Predictor>> StartCommandPredictor(const CommandOptions& options) {
  const spec::CommandSpec& command = options.command;
  if (command.argv.empty()) return InvalidArgument("predictor.command is empty");
  auto program = FindProgram(command.argv[0]);
  if (!program.ok()) return program.status();
  StatusOr<int> port = command.port != 0 ? StatusOr<int>(command.port) : FreePort();
  if (!port.ok()) return port.status();
  std::vector<std::string> argv = command.argv;
  argv[0] = *program;
  auto pid = SpawnProcess({.argv = std::move(argv),
                           .env = {{"AXON_PORT", std::to_string(*port)}},
                           .output_file = options.log_file,
                           .working_dir = options.working_dir});
  if (!pid.ok()) return InvalidArgument("predictor.command: " + pid.status().message());
  spdlog::info("started the command (pid {}) on port {}; waiting for {}", *pid, *port,
               command.readiness_path.empty() ? "it to answer HTTP" : command.readiness_path);
  if (Status s = AwaitReady(*pid, *port, options); !s.ok()) return s;
  spdlog::info("the command's server is ready on port {}", *port);
  return std::unique_ptr<Predictor>(std::make_unique<CommandPredictor>(*pid, *port, options));
}

}  // namespace axon::replica
