// One platform per AXON_HOME: the operator holds an exclusive lock (flock) on
// $AXON_HOME/run/operator.lock for as long as it runs. The kernel drops the lock when the
// process ends, however it ends (SIGKILL included), so a stale file never blocks a restart.
// The file's text names the holder (its pid and addresses) for other processes' messages.
//
// Not copyable; movable. The lock lives as long as the object.
#pragma once

#include <string>

#include "common/axon_home.h"
#include "common/status.h"

namespace axon {

class HomeLock {
 public:
  // Takes the lock and writes `holder` into the file. Fails with kAlreadyExists, naming the
  // holder, when another process has it.
  static StatusOr<HomeLock> Acquire(const AxonHome& home, const std::string& holder);
  // The holder's description if some process holds the lock now; "" if none does.
  static std::string Holder(const AxonHome& home);

  HomeLock(HomeLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  HomeLock& operator=(HomeLock&&) = delete;
  HomeLock(const HomeLock&) = delete;
  ~HomeLock();

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace axon
