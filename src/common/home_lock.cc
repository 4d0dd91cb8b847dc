#include "common/home_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"

namespace axon {
namespace {

std::filesystem::path LockFile(const AxonHome& home) { return home.RunDir() / "operator.lock"; }

}  // namespace

StatusOr<HomeLock> HomeLock::Acquire(const AxonHome& home, const std::string& holder) {
  std::error_code ec;
  std::filesystem::create_directories(home.RunDir(), ec);
  const auto path = LockFile(home);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    auto text = ReadFile(path);
    return AlreadyExists("another Axon operator runs with AXON_HOME=" + home.root.string() +
                         (text.ok() && !text->empty() ? " (" + *text + ")" : "") +
                         "; stop it with `axon down` or use another AXON_HOME");
  }
  HomeLock lock(fd);
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t written = ::pwrite(fd, holder.data(), holder.size(), 0);
    (void)written;  // the description is informative only
  }
  return lock;
}

std::string HomeLock::Holder(const AxonHome& home) {
  const auto path = LockFile(home);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (!held) return "";
  auto text = ReadFile(path);
  return text.ok() && !text->empty() ? *text : "an operator";
}

HomeLock::~HomeLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace axon
