// A blocking HTTP client for the control plane (CLI and operator): one connection per call,
// a deadline for the whole exchange, over TCP, HTTPS (the server's certificate verified) or a
// Unix domain socket. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "http/beast.h"

namespace axon::http {

// Where a control-plane call goes.
struct Peer {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string unix_socket;       // set: connect here ("@name" or a path) instead of host:port
  bool tls = false;              // HTTPS: verify the server's certificate and that it names `host`
  std::string ca_file;           // PEM CA bundle to verify with; empty = the system's
  std::string Describe() const;  // "127.0.0.1:8889", "https://host:443", "@axon-admin"
};

// Parses "@name", "/path/to/socket" or "host:port" (as the admin listener flags take them).
StatusOr<Peer> PeerFromListenAddress(const std::string& address);

// Sends `request` and returns the response (any status code). Errors: kUnavailable when
// nothing listens there or the deadline passes; kInvalidArgument for a TLS set-up that cannot
// work (no CA file); TLS verification failures name the reason.
StatusOr<Response> Fetch(const Peer& peer, Request request, std::chrono::milliseconds timeout);
StatusOr<Response> Fetch(const std::string& host, uint16_t port, Request request,
                         std::chrono::milliseconds timeout);

// A request with the usual headers set: target, method, host, optional bearer token and body.
Request MakeRequest(bhttp::verb method, std::string_view target, std::string_view token = {},
                    std::string body = {}, std::string_view content_type = "application/json");

}  // namespace axon::http
