// The gateway's gRPC port: the Open Inference Protocol's GRPCInferenceService
// (protocol/open_inference.proto). Each call becomes the equivalent HTTP request
// (protocol/v2_grpc_codec.h) and goes through Gateway::Handle like an HTTP client's, so the two
// faces route, limit, count and answer alike. Calls are forwarded on a thread of the server's
// own (with its own connections to replicas): gRPC's threads only convert messages and never
// wait for a replica.
//
// Threading: Start() and Shutdown() from the owning thread; the Gateway must outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/server.h>

#include "common/status.h"
#include "gateway/gateway.h"
#include "http/beast.h"

namespace axon::gateway {

class InferenceService;

class GrpcServer {
 public:
  // Listens on host:port (0: any free port, see port()) and starts serving. `max_message_bytes`
  // bounds a request.
  static StatusOr<std::unique_ptr<GrpcServer>> Start(Gateway& gateway, const std::string& host,
                                                     uint16_t port, uint64_t max_message_bytes);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  uint16_t port() const { return port_; }

  // Stops taking calls and lets calls in flight finish for at most `drain`; calls still
  // running then are cancelled (the client sees UNAVAILABLE). Blocks until done; idempotent.
  void Shutdown(std::chrono::milliseconds drain);

 private:
  explicit GrpcServer(Gateway& gateway);

  http::asio::io_context io_{1};
  http::asio::executor_work_guard<http::asio::io_context::executor_type> work_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread thread_;  // runs io_
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace axon::gateway
