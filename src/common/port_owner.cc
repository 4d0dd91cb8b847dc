#include "common/port_owner.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/files.h"
#include "common/process.h"

namespace axon {
namespace {

constexpr const char* kListen = "0A";

// Inodes of the listening sockets on `port` in /proc/net/tcp or tcp6.
void ListeningInodes(const char* table, uint16_t port, std::set<std::string>& inodes) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    const auto colon = local.rfind(':');
    if (state != kListen || colon == std::string::npos) continue;
    if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
  }
}

}  // namespace

std::optional<PortOwner> FindPortOwner(uint16_t port) {
  std::set<std::string> inodes;
  try {
    ListeningInodes("/proc/net/tcp", port, inodes);
    ListeningInodes("/proc/net/tcp6", port, inodes);
  } catch (const std::exception&) {
    return std::nullopt;  // an unexpected /proc format
  }
  if (inodes.empty()) return std::nullopt;
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      const std::string target = std::filesystem::read_symlink(fd.path(), link_ec).string();
      if (link_ec || !target.starts_with("socket:[")) continue;
      if (inodes.contains(target.substr(8, target.size() - 9))) {
        PortOwner owner{.pid = static_cast<pid_t>(std::stol(name))};
        auto comm = ReadFile(proc.path() / "comm");
        if (comm.ok()) owner.command = comm->substr(0, comm->find('\n'));
        owner.axon_home = ProcessEnvironmentValue(owner.pid, "AXON_HOME");
        return owner;
      }
    }
  }
  return std::nullopt;
}

std::string DescribePortOwner(uint16_t port) {
  const auto owner = FindPortOwner(port);
  if (!owner) return "another process";
  std::string out = "pid " + std::to_string(owner->pid) + " (" + owner->command;
  if (!owner->axon_home.empty()) out += ", AXON_HOME=" + owner->axon_home;
  return out + ")";
}

}  // namespace axon
