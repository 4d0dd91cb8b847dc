#include "gateway/request_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "common/log_line.h"

namespace axon::gateway {
namespace {

// A per-thread xorshift generator: sampling costs a few instructions and no lock.
uint64_t NextRandom() {
  thread_local uint64_t state =
      0x9E3779B97F4A7C15ULL ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      reinterpret_cast<uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

constexpr int64_t kEvery = 1'000'000;

}  // namespace

StatusOr<std::shared_ptr<const RequestLog>> RequestLog::Open(const std::string& path,
                                                             int64_t per_million) {
  if (per_million <= 0 || per_million > kEvery) {
    return InvalidArgument("request log sample must be in (0, 1000000] per million");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Internal("cannot open the request log " + path + ": " + std::strerror(errno));
  }
  return std::shared_ptr<const RequestLog>(new RequestLog(path, fd, per_million));
}

RequestLog::~RequestLog() { ::close(fd_); }

void RequestLog::Record(const RequestRecord& r) const {
  if (per_million_ < kEvery && static_cast<int64_t>(NextRandom() % kEvery) >= per_million_) {
    return;
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  fmt::memory_buffer extra;
  fmt::format_to(std::back_inserter(extra), "\"method\":");
  AppendJsonString(extra, r.method);
  fmt::format_to(std::back_inserter(extra), ",\"path\":");
  AppendJsonString(extra, r.target);
  fmt::format_to(std::back_inserter(extra), ",\"status\":{},\"latency_ms\":{}.{:03}", r.status,
                 r.latency_us / 1000, r.latency_us % 1000);
  fmt::memory_buffer line;
  AppendLogLine(line,
                {.time_ms = now.count(),
                 .level = "info",
                 .source = "gateway",
                 .api = r.api,
                 .version = r.version,
                 .replica = r.replica,
                 .request_id = r.request_id,
                 .message = "request"},
                std::string_view(extra.data(), extra.size()));
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {  // one write in practice; a partial write of a regular file is rare
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace axon::gateway
