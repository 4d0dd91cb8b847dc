// CPU time and resident memory of a local process, from Linux's /proc/PID/stat and
// /proc/PID/status (proc(5)), for the dashboard's per-replica charts. The parsers are pure
// functions over the files' text, so that they can be tested without a process; ReadProcUsage
// reads the two files. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace axon::operator_ {

struct ProcUsage {
  uint64_t cpu_ticks = 0;  // user plus system time, in clock ticks (sysconf(_SC_CLK_TCK))
  uint64_t rss_bytes = 0;  // resident set size
};

// utime + stime (fields 14 and 15) of a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so fields are counted from the last
// ')'.
StatusOr<uint64_t> ParseProcStatCpuTicks(std::string_view stat);
// VmRSS of /proc/PID/status ("VmRSS:    1234 kB"), in bytes. A kernel thread or a zombie has
// no VmRSS line: 0.
StatusOr<uint64_t> ParseProcStatusRssBytes(std::string_view status);
// Both, for process `pid`; NotFound if it does not exist (any more).
StatusOr<ProcUsage> ReadProcUsage(int64_t pid);

}  // namespace axon::operator_
