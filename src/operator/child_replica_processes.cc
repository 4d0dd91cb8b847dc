#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/process.h"
#include "contract/flags.h"
#include "contract/standby.h"
#include "http/client.h"
#include "operator/replica_processes.h"

namespace axon::operator_ {
namespace {

constexpr auto kStandbyRetry = std::chrono::minutes(1);

bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EPIPE: the standby is gone (SIGPIPE is ignored)
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ChildReplicaProcesses::~ChildReplicaProcesses() {
  for (auto& standby : standbys_) End(standby);
}

void ChildReplicaProcesses::End(Standby& standby) {
  ::close(standby.pipe);
  if (ProcessAlive(standby.pid, standby.start_time)) ::kill(standby.pid, SIGKILL);
  ::waitpid(standby.pid, nullptr, 0);
}

void ChildReplicaProcesses::StartStandby(const StandbySpec& spec) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  contract::ReplicaFlags flags;
  flags.standby = spec.runtime;
  std::vector<std::string> argv{replica_binary_.string()};
  for (auto& arg : contract::ToArgs(flags)) argv.push_back(std::move(arg));
  auto pid = SpawnProcess(
      {.argv = std::move(argv), .env = spec.env, .output_file = standby_log_, .stdin_fd = fds[0]});
  ::close(fds[0]);
  if (!pid.ok()) {
    ::close(fds[1]);
    spdlog::warn("cannot start a standby replica for {}: {}", spec.runtime, pid.status().message());
    retry_after_[spec] = std::chrono::steady_clock::now() + kStandbyRetry;
    return;
  }
  standbys_.push_back({spec, *pid, ProcessStartTime(*pid).value_or(0), fds[1]});
  spdlog::info("started a standby replica for {} (pid {})", spec.runtime, *pid);
}

void ChildReplicaProcesses::KeepStandbys(const std::vector<StandbySpec>& wanted,
                                         bool start_missing) {
  for (auto it = standbys_.begin(); it != standbys_.end();) {
    if (auto exit = ReapIfExited(it->pid, it->start_time)) {
      spdlog::warn("the standby replica for {} (pid {}) ended unused ({}); see {}; another in {} s",
                   it->spec.runtime, it->pid, *exit, standby_log_.string(),
                   std::chrono::seconds(kStandbyRetry).count());
      ::close(it->pipe);
      retry_after_[it->spec] = std::chrono::steady_clock::now() + kStandbyRetry;
      it = standbys_.erase(it);
    } else if (std::find(wanted.begin(), wanted.end(), it->spec) == wanted.end()) {
      End(*it);
      it = standbys_.erase(it);
    } else {
      ++it;
    }
  }
  if (!start_missing) return;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& spec : wanted) {
    const bool kept = std::any_of(standbys_.begin(), standbys_.end(),
                                  [&](const Standby& s) { return s.spec == spec; });
    const auto retry = retry_after_.find(spec);
    if (kept || (retry != retry_after_.end() && now < retry->second)) continue;
    StartStandby(spec);
  }
}

StatusOr<ReplicaHandle> ChildReplicaProcesses::Start(const ReplicaLaunch& launch) {
  std::error_code ec;
  std::filesystem::remove_all(launch.state_dir, ec);
  std::filesystem::create_directories(launch.state_dir, ec);
  std::filesystem::create_directories(launch.log_file.parent_path(), ec);
  // The gateway reaches local replicas over a Unix socket in the abstract namespace: cheaper
  // than loopback TCP, no file to clean up, and unique per start.
  const std::string socket = "@axon-" + RandomHex(8) + "-" + launch.replica_id;
  contract::ReplicaFlags flags;
  flags.spec_file = launch.spec_file.string();
  flags.replica_id = launch.replica_id;
  flags.unix_socket = socket;
  flags.port_file = (launch.state_dir / "port").string();
  flags.error_file = (launch.state_dir / "error").string();
  flags.drain_ms = launch.drain.count();
  flags.max_body_bytes = launch.max_body_bytes;
  const auto standby = std::find_if(standbys_.begin(), standbys_.end(), [&](const Standby& s) {
    return !launch.runtime.empty() && s.spec.runtime == launch.runtime && s.spec.env == launch.env;
  });
  if (standby != standbys_.end()) {
    Standby taken = *standby;
    standbys_.erase(standby);
    const bool sent = WriteAll(taken.pipe, contract::ToLine({.flags = flags,
                                                             .env = launch.replica_env,
                                                             .output_file = launch.log_file,
                                                             .working_dir = launch.working_dir}));
    ::close(taken.pipe);
    if (sent) {
      spdlog::info("api {}: replica {} is the standby replica pid {}", launch.api,
                   launch.replica_id, taken.pid);
      return ReplicaHandle{taken.pid, taken.start_time, launch.state_dir, socket};
    }
    taken.pipe = -1;
    End(taken);  // it died meanwhile: a new process instead
  }
  auto env = launch.env;
  for (const auto& [key, value] : launch.replica_env) env[key] = value;
  std::vector<std::string> argv{replica_binary_.string()};
  for (auto& arg : contract::ToArgs(flags)) argv.push_back(std::move(arg));
  auto pid = SpawnProcess({.argv = std::move(argv),
                           .env = std::move(env),
                           .output_file = launch.log_file,
                           .working_dir = launch.working_dir});
  if (!pid.ok()) return pid.status();
  return ReplicaHandle{*pid, ProcessStartTime(*pid).value_or(0), launch.state_dir, socket};
}

std::optional<std::string> ChildReplicaProcesses::CheckExited(const ReplicaHandle& replica) {
  return ReapIfExited(replica.pid, replica.start_time);
}

std::optional<uint16_t> ChildReplicaProcesses::Port(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "port");
  if (!text.ok()) return std::nullopt;
  try {
    const int port = std::stoi(*text);
    if (port > 0 && port < 65536) return static_cast<uint16_t>(port);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string ChildReplicaProcesses::FailureReason(const ReplicaHandle& replica) {
  auto text = ReadFile(replica.state_dir / "error");
  return text.ok() ? *text : "";
}

bool ChildReplicaProcesses::Ready(const ReplicaHandle&, uint16_t port) {
  using namespace std::chrono_literals;
  auto res =
      http::Fetch("127.0.0.1", port, http::MakeRequest(http::bhttp::verb::get, "/healthz"), 300ms);
  return res.ok() && res->result_int() == 200;
}

// Signals only the process that was started (a recycled pid is someone else's).
void ChildReplicaProcesses::Stop(const ReplicaHandle& replica) {
  if (ProcessAlive(replica.pid, replica.start_time)) ::kill(replica.pid, SIGTERM);
}

void ChildReplicaProcesses::Kill(const ReplicaHandle& replica) {
  if (ProcessAlive(replica.pid, replica.start_time)) ::kill(replica.pid, SIGKILL);
}

}  // namespace axon::operator_
