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
};

// Starts a child process. The child inherits no descriptor except stdin (/dev/null), stdout
// and stderr.
StatusOr<pid_t> SpawnProcess(const ProcessOptions& options);

// Reaps `pid` if it is our child and has exited. Returns its exit description
// ("exit code 3", "killed by signal 9"; just "exited" for a process that is not our child) or
// nullopt if it is still running.
std::optional<std::string> ReapIfExited(pid_t pid);

// True while `pid` names a live process; a zombie (exited, not yet reaped) counts as dead.
bool ProcessAlive(pid_t pid);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. Reaps it if it is a
// child. Blocks the caller for at most grace + 1 s.
void TerminateProcess(pid_t pid, std::chrono::milliseconds grace);

// The folder holding the running executable (for finding sibling binaries).
std::filesystem::path ExecutableDir();

}  // namespace axon
