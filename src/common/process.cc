#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace axon {
namespace {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) merged[k] = v;
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

// The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses).
std::optional<std::string> StatFieldsAfterName(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return std::nullopt;
  return line.substr(paren + 2);
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// True if `pid` has exited but its parent has not reaped it yet. When we are not that parent
// (a process started by an earlier `axon` command), kill(pid, 0) still succeeds on it, and
// whether it is ever reaped depends on the init process (some container inits never do).
bool IsZombie(pid_t pid) {
  const auto fields = StatFieldsAfterName(pid);
  return fields && !fields->empty() && fields->front() == 'Z';
}

bool StartTimeDiffers(pid_t pid, uint64_t start_time) {
  if (start_time == 0) return false;
  const auto now = ProcessStartTime(pid);
  return !now || *now != start_time;
}

}  // namespace

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  const auto fields = StatFieldsAfterName(pid);
  if (!fields) return std::nullopt;
  // After the name: state (field 3) ... starttime is field 22, the 20th here.
  std::istringstream in(*fields);
  std::string value;
  for (int i = 0; i < 20 && in >> value; ++i) {
  }
  try {
    return std::stoull(value);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string ProcessEnvironmentValue(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  const std::string prefix = key + "=";
  std::string entry;
  while (std::getline(in, entry, '\0')) {
    if (entry.starts_with(prefix)) return entry.substr(prefix.size());
  }
  return "";
}

StatusOr<pid_t> SpawnProcess(const ProcessOptions& options) {
  if (options.argv.empty()) return InvalidArgument("no program to start");
  auto args = options.argv;
  auto env = MergedEnvironment(options.env);
  auto argv = CStrings(args);
  auto envp = CStrings(env);
  const std::string output =
      options.output_file.empty() ? "/dev/null" : options.output_file.string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, options.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  short flags = POSIX_SPAWN_SETSIGMASK;  // NOLINT(google-runtime-int): posix API type
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Internal("cannot start " + options.argv[0] + ": " + std::strerror(rc));
  }
  return pid;
}

std::optional<std::string> ReapIfExited(pid_t pid, uint64_t start_time) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return DescribeWaitStatus(status);
  if (r < 0 && errno == ECHILD) {  // not our child (adopted): ask the kernel if it lives
    if ((::kill(pid, 0) != 0 && errno == ESRCH) || IsZombie(pid) ||
        StartTimeDiffers(pid, start_time)) {
      return std::string("exited");
    }
  }
  return std::nullopt;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  return !IsZombie(pid) && !StartTimeDiffers(pid, start_time);
}

void TerminateProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (ProcessAlive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (ProcessAlive(pid)) {
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 50 && ProcessAlive(pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

std::filesystem::path ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

}  // namespace axon
