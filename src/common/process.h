// Starting and signalling OS processes. Thread-safe: no shared state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace axon {

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the executable path
  std::map<std::string, std::string> env;  // added to (or replacing in) our environment
  std::filesystem::path output_file;       // stdout+stderr appended here; empty = /dev/null
  std::filesystem::path working_dir;       // empty = inherit
  bool new_session = true;                 // setsid(): signals to our terminal miss the child
  int stdin_fd = -1;  // the child's stdin (the caller keeps and closes its copy); -1 = /dev/null
};

// Starts a child process. The child inherits no descriptor except stdin (/dev/null unless
// stdin_fd is given), stdout and stderr.
StatusOr<pid_t> SpawnProcess(const ProcessOptions& options);

// When the kernel started process `pid` (clock ticks since boot, field 22 of /proc/PID/stat):
// with the pid, it names one process for good, since a recycled pid has another start time.
// nullopt when no such process exists.
std::optional<uint64_t> ProcessStartTime(pid_t pid);

// The value of `key` in the environment process `pid` started with ("" when absent or when
// the process cannot be read).
std::string ProcessEnvironmentValue(pid_t pid, const std::string& key);

// Reaps `pid` if it is our child and has exited. Returns its exit description
// ("exit code 3", "killed by signal 9"; just "exited" for a process that is not our child) or
// nullopt if it is still running. For a process that is not our child, a `start_time` other
// than 0 must match: a pid recycled by another process counts as exited.
std::optional<std::string> ReapIfExited(pid_t pid, uint64_t start_time = 0);

// True while `pid` names a live process (started at `start_time`, unless that is 0); a zombie
// (exited, not yet reaped) counts as dead.
bool ProcessAlive(pid_t pid, uint64_t start_time = 0);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. Reaps it if it is a
// child. Blocks the caller for at most grace + 1 s.
void TerminateProcess(pid_t pid, std::chrono::milliseconds grace);

// The folder holding the running executable (for finding sibling binaries).
std::filesystem::path ExecutableDir();

}  // namespace axon
