#include "replica/standby.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/signals.h"

namespace axon::replica {
namespace {

constexpr size_t kMaxLine = 1 << 20;  // an assignment is a few hundred bytes

// Makes `fd` a copy of `path` opened with `flags`.
Status Reopen(int fd, const std::string& path, int flags) {
  const int opened = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (opened < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  const bool ok = ::dup2(opened, fd) == fd;
  const int error = errno;
  ::close(opened);
  if (!ok) return Internal("cannot use " + path + ": " + std::strerror(error));
  return OkStatus();
}

}  // namespace

StatusOr<std::optional<contract::StandbyAssignment>> ReadAssignment() {
  using Assignment = std::optional<contract::StandbyAssignment>;
  std::string line;
  char buffer[4096];
  size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    pollfd in{.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&in, 1, 200);  // a termination signal is looked for between waits
    if (PollTerminationSignal() != 0) return Assignment();
    if (ready <= 0) {
      if (ready < 0 && errno != EINTR) {
        return Internal(std::string("cannot wait for the assignment: ") + std::strerror(errno));
      }
      continue;
    }
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("cannot read the assignment: ") + std::strerror(errno));
    if (n == 0) {
      if (line.empty()) return Assignment();
      return InvalidArgument("the operator closed the standby's pipe in the middle of a line");
    }
    line.append(buffer, static_cast<size_t>(n));
    if (line.size() > kMaxLine) return InvalidArgument("the standby's assignment is too long");
    newline = line.find('\n');
  }
  auto assignment = contract::StandbyAssignmentFromLine(std::string_view(line).substr(0, newline));
  if (!assignment.ok()) return assignment.status();
  return Assignment(*std::move(assignment));
}

Status ApplyAssignment(const contract::StandbyAssignment& assignment) {
  if (Status s = Reopen(STDOUT_FILENO, assignment.output_file, O_WRONLY | O_CREAT | O_APPEND);
      !s.ok()) {
    return s;
  }
  if (::dup2(STDOUT_FILENO, STDERR_FILENO) != STDERR_FILENO) {
    return Internal(std::string("cannot send stderr to the log: ") + std::strerror(errno));
  }
  for (const auto& [key, value] : assignment.env) ::setenv(key.c_str(), value.c_str(), 1);
  if (!assignment.working_dir.empty() && ::chdir(assignment.working_dir.c_str()) != 0) {
    return NotFound("cannot enter the predictor's folder " + assignment.working_dir + ": " +
                    std::strerror(errno));
  }
  return Reopen(STDIN_FILENO, "/dev/null", O_RDONLY);
}

}  // namespace axon::replica
