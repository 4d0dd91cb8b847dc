#include "operator/proc_usage.h"

#include <charconv>
#include <string>

#include "common/files.h"

namespace axon::operator_ {
namespace {

bool ParseUint(std::string_view text, uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

StatusOr<uint64_t> ParseProcStatCpuTicks(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) {
    return InvalidArgument("/proc/PID/stat: no ')' after the command name");
  }
  // Fields after the name: 3 state, 4 ppid, ... 14 utime, 15 stime.
  std::string_view rest = stat.substr(close + 1);
  uint64_t ticks = 0;
  int field = 2;
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    const std::string_view value = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    ++field;
    if (field == 14 || field == 15) {
      uint64_t n = 0;
      if (!ParseUint(value, &n)) {
        return InvalidArgument("/proc/PID/stat: field " + std::to_string(field) +
                               " is not a number: " + std::string(value.substr(0, 20)));
      }
      ticks += n;
      if (field == 15) return ticks;
    }
  }
  return InvalidArgument("/proc/PID/stat: " + std::to_string(field) +
                         " fields, expected at least 15");
}

StatusOr<uint64_t> ParseProcStatusRssBytes(std::string_view status) {
  constexpr std::string_view kKey = "VmRSS:";
  size_t pos = 0;
  while (pos < status.size()) {
    auto end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(kKey)) continue;
    line.remove_prefix(kKey.size());
    const auto start = line.find_first_not_of(" \t");
    const auto unit = line.rfind(" kB");
    if (start == std::string_view::npos || unit == std::string_view::npos || unit < start ||
        unit + 3 != line.size()) {
      return InvalidArgument("/proc/PID/status: VmRSS is not \"N kB\": " + std::string(line));
    }
    uint64_t kib = 0;
    if (!ParseUint(line.substr(start, unit - start), &kib)) {
      return InvalidArgument("/proc/PID/status: VmRSS is not \"N kB\": " + std::string(line));
    }
    return kib * 1024;
  }
  return uint64_t{0};
}

StatusOr<ProcUsage> ReadProcUsage(int64_t pid) {
  if (pid <= 0) return InvalidArgument("no process id");
  const std::string dir = "/proc/" + std::to_string(pid);
  auto stat = ReadFile(dir + "/stat");
  if (!stat.ok()) return NotFound("no process " + std::to_string(pid));
  auto status = ReadFile(dir + "/status");
  if (!status.ok()) return NotFound("no process " + std::to_string(pid));
  auto ticks = ParseProcStatCpuTicks(*stat);
  if (!ticks.ok()) return ticks.status();
  auto rss = ParseProcStatusRssBytes(*status);
  if (!rss.ok()) return rss.status();
  return ProcUsage{.cpu_ticks = *ticks, .rss_bytes = *rss};
}

}  // namespace axon::operator_
