// Request logging for one API (spec `logging: {requests: true, sample: ...}`): one JSON line
// per sampled prediction request (method, path, status, latency, request id; never the body),
// appended to the API's log file (common/log_line.h's format, source "gateway").
//
// Opened by RouteTable::Build when a route table turns logging on, and shared (shared_ptr) by
// the routes of the tables that follow with the same file and rate; closed with the last one.
// Record() may be called from any thread at once: each line is a single write(2) to a file
// opened with O_APPEND, so lines of several threads and processes never interleave. It formats
// into a buffer on the stack and takes no lock; the write goes to the page cache.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace axon::gateway {

struct RequestRecord {
  std::string_view api;
  int64_t version = 0;       // of the replica that answered; 0 when none did
  std::string_view replica;  // "" when none answered (a 503 from the gateway, a 401)
  std::string_view request_id;
  std::string_view method;
  std::string_view target;  // the path as the client sent it, query string removed
  unsigned status = 0;
  int64_t latency_us = 0;
};

class RequestLog {
 public:
  // Opens (creating if need be) `path` for appending. `per_million`: in (0, 1'000'000].
  static StatusOr<std::shared_ptr<const RequestLog>> Open(const std::string& path,
                                                          int64_t per_million);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  const std::string& path() const { return path_; }
  int64_t per_million() const { return per_million_; }

  // Writes the line if this request is sampled. Errors (a full disk) are dropped silently: a
  // log line never fails a request.
  void Record(const RequestRecord& record) const;

 private:
  RequestLog(std::string path, int fd, int64_t per_million)
      : path_(std::move(path)), fd_(fd), per_million_(per_million) {}
  std::string path_;
  int fd_;
  int64_t per_million_;
};

}  // namespace axon::gateway
