// Which process listens on a TCP port, for error messages that say who holds a busy port
// (another Axon platform, and which AXON_HOME, or some other program). Reads /proc; sees every
// process when run as root, else only the caller's own. Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace axon {

struct PortOwner {
  pid_t pid = 0;
  std::string command;    // the program's name (from /proc/PID/comm)
  std::string axon_home;  // its AXON_HOME, when it has one in its environment
};

// The process with a listening TCP socket (IPv4 or IPv6) on `port`, if one can be seen.
std::optional<PortOwner> FindPortOwner(uint16_t port);

// "pid 123 (axon-gateway, AXON_HOME=/srv/axon)", "pid 99 (nginx)", or "another process" when
// the owner cannot be seen.
std::string DescribePortOwner(uint16_t port);

}  // namespace axon
