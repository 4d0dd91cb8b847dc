// A blocking HTTP client for the control plane (CLI and operator): one connection per call,
// a deadline for the whole exchange. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "http/beast.h"

namespace axon::http {

// Sends `request` to host:port and returns the response (any status code). Errors:
// kUnavailable when nothing listens there or the deadline passes.
StatusOr<Response> Fetch(const std::string& host, uint16_t port, Request request,
                         std::chrono::milliseconds timeout);

// A request with the usual headers set: target, method, host, optional bearer token and body.
Request MakeRequest(bhttp::verb method, std::string_view target, std::string_view token = {},
                    std::string body = {}, std::string_view content_type = "application/json");

}  // namespace axon::http
