#include "gateway/grpc_server.h"

#include <atomic>
#include <climits>
#include <functional>
#include <mutex>
#include <set>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include "open_inference.grpc.pb.h"
#include "protocol/v2_grpc_codec.h"
#include "protocol/v2_request.h"
#include "protocol/v2_types.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;
namespace v2 = protocol::v2;

// One call in progress. Whoever claims it first finishes it, exactly once: the forwarding
// coroutine when the answer is there, or Shutdown() once the drain time is over (gRPC has
// cancelled the call by then, but its Shutdown() waits until every call is finished).
struct Call {
  grpc::ServerUnaryReactor* reactor = nullptr;
  std::atomic<bool> claimed{false};
  bool Claim() { return !claimed.exchange(true); }
};

// Model names are API names and versions are numbers: anything else (a '/', a '?') could only
// make a different path of the request, so it names no model.
bool PlainSegment(std::string_view s) {
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

http::Request Get(std::string target) { return {bhttp::verb::get, std::move(target), 11}; }

// A gateway answer's JSON (null when malformed, which the conversions then refuse).
nlohmann::json Parse(std::string_view body) {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

// A readiness answer: 200 is ready, 400 not ready (both OK), anything else an error.
template <typename Message>
grpc::Status Readiness(const http::Response& r, Message* response) {
  response->set_ready(r.result_int() == 200);
  return r.result_int() == 200 || r.result_int() == 400
             ? grpc::Status::OK
             : v2::GrpcStatusFor(r.result_int(), r.body());
}

// Internal errors of converting the gateway's own answers.
grpc::Status ToGrpc(const Status& status) {
  return status.ok() ? grpc::Status::OK
                     : grpc::Status(grpc::StatusCode::INTERNAL, status.message());
}

}  // namespace

class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  InferenceService(Gateway& gateway, asio::io_context& io) : gateway_(gateway), io_(io) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx,
                                       const inference::ServerLiveRequest* /*request*/,
                                       inference::ServerLiveResponse* response) override {
    return Run(ctx, Get("/v2/health/live"), [response](http::Response& r) {
      response->set_live(r.result_int() == 200);
      return grpc::Status::OK;
    });
  }

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx,
                                        const inference::ServerReadyRequest* /*request*/,
                                        inference::ServerReadyResponse* response) override {
    return Run(ctx, Get("/v2/health/ready"),
               [response](http::Response& r) { return Readiness(r, response); });
  }

  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override {
    if (auto* bad = CheckModel(ctx, request->name(), request->version())) return bad;
    return Run(ctx, Get(v2::ModelTarget(request->name(), request->version(), "/ready")),
               [response](http::Response& r) { return Readiness(r, response); });
  }

  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx,
                                           const inference::ServerMetadataRequest* /*request*/,
                                           inference::ServerMetadataResponse* response) override {
    return Run(ctx, Get("/v2"), [response](http::Response& r) {
      if (r.result_int() != 200) return v2::GrpcStatusFor(r.result_int(), r.body());
      return ToGrpc(v2::ServerMetadataFromJson(Parse(r.body()), response));
    });
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    if (auto* bad = CheckModel(ctx, request->name(), request->version())) return bad;
    return Run(ctx, Get(v2::ModelTarget(request->name(), request->version(), "")),
               [response](http::Response& r) {
                 if (r.result_int() != 200) return v2::GrpcStatusFor(r.result_int(), r.body());
                 return ToGrpc(v2::ModelMetadataFromJson(Parse(r.body()), response));
               });
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    if (auto* bad = CheckModel(ctx, request->model_name(), request->model_version())) return bad;
    auto body = v2::InferRequestToHttp(*request);
    if (!body.ok()) {
      return Refuse(ctx, {grpc::StatusCode::INVALID_ARGUMENT, body.status().message()});
    }
    http::Request http_request{
        bhttp::verb::post,
        v2::ModelTarget(request->model_name(), request->model_version(), "/infer"), 11};
    http_request.set(bhttp::field::content_type, "application/octet-stream");
    http_request.set(v2::kHeaderLengthHeader, std::to_string(body->header_length));
    http_request.body() = std::move(body->body);
    return Run(ctx, std::move(http_request), [response](http::Response& r) {
      if (r.result_int() != 200) return v2::GrpcStatusFor(r.result_int(), r.body());
      std::optional<uint64_t> header_length;
      if (const auto it = r.find(v2::kHeaderLengthHeader); it != r.end()) {
        auto parsed = v2::ParseHeaderLength(it->value());
        if (!parsed.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "malformed answer");
        header_length = *parsed;
      }
      return ToGrpc(v2::InferResponseFromHttp(r.body(), header_length, response));
    });
  }

  // Answers every call still in progress with UNAVAILABLE.
  void FinishPending() {
    std::set<std::shared_ptr<Call>> calls;
    {
      std::lock_guard lock(mu_);
      calls.swap(pending_);
    }
    for (const auto& call : calls) {
      if (call->Claim()) {
        call->reactor->Finish({grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"});
      }
    }
  }

 private:
  using Finish = std::function<grpc::Status(http::Response&)>;

  static std::string RequestId(grpc::CallbackServerContext* ctx) {
    const auto& metadata = ctx->client_metadata();
    const auto it = metadata.find("x-request-id");
    return it != metadata.end() ? std::string(it->second.data(), it->second.size())
                                : NewRequestId();
  }

  // Answers a call that never reaches the gateway's routing.
  static grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, grpc::Status status) {
    ctx->AddInitialMetadata("x-request-id", RequestId(ctx));
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(std::move(status));
    return reactor;
  }

  // nullptr when `name` and `version` can name a model; else the finished call.
  static grpc::ServerUnaryReactor* CheckModel(grpc::CallbackServerContext* ctx,
                                              const std::string& name, const std::string& version) {
    if (name.empty()) return Refuse(ctx, {grpc::StatusCode::INVALID_ARGUMENT, "name the model"});
    if (!PlainSegment(name)) {
      return Refuse(ctx, {grpc::StatusCode::NOT_FOUND, "no model named \"" + name + "\""});
    }
    if (!PlainSegment(version)) {
      return Refuse(ctx, {grpc::StatusCode::NOT_FOUND,
                          "model \"" + name + "\" has no version \"" + version + "\""});
    }
    return nullptr;
  }

  asio::awaitable<http::Response> Send(http::Request request) {
    co_return co_await gateway_.Handle(request);
  }

  // Sends `request` through the gateway on the forwarding thread; `finish` turns the answer
  // into the call's response and status.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, http::Request request,
                                Finish finish) {
    auto call = std::make_shared<Call>();
    call->reactor = ctx->DefaultReactor();
    request.set("X-Request-ID", RequestId(ctx));
    {
      std::lock_guard lock(mu_);
      pending_.insert(call);
    }
    asio::co_spawn(io_, Send(std::move(request)),
                   [this, call, ctx, finish = std::move(finish)](std::exception_ptr error,
                                                                 http::Response response) {
                     {
                       std::lock_guard lock(mu_);
                       pending_.erase(call);
                     }
                     if (!call->Claim()) return;  // Shutdown() answered it
                     grpc::Status status(grpc::StatusCode::INTERNAL, "internal error");
                     try {
                       if (error) std::rethrow_exception(error);
                       ctx->AddInitialMetadata("x-request-id",
                                               std::string(response["X-Request-ID"]));
                       status = finish(response);
                     } catch (const std::exception& e) {
                       spdlog::error("gRPC call failed: {}", e.what());
                     }
                     call->reactor->Finish(status);
                   });
    return call->reactor;
  }

  Gateway& gateway_;
  asio::io_context& io_;
  std::mutex mu_;
  std::set<std::shared_ptr<Call>> pending_;  // guarded by mu_
};

GrpcServer::GrpcServer(Gateway& gateway)
    : work_(asio::make_work_guard(io_)),
      service_(std::make_unique<InferenceService>(gateway, io_)) {}

GrpcServer::~GrpcServer() { Shutdown(std::chrono::milliseconds(0)); }

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(Gateway& gateway, const std::string& host,
                                                        uint16_t port, uint64_t max_message_bytes) {
  std::unique_ptr<GrpcServer> server(new GrpcServer(gateway));
  const std::string address = host + ":" + std::to_string(port);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(max_message_bytes, INT_MAX)));
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a taken port is an error
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || bound == 0) {
    server->stopped_ = true;
    return Unavailable("cannot listen for gRPC on " + address +
                       " (is the port in use? choose another with --grpc-port)");
  }
  server->port_ = static_cast<uint16_t>(bound);
  server->thread_ = std::thread([s = server.get()] { s->io_.run(); });
  return server;
}

void GrpcServer::Shutdown(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  std::atomic<bool> done{false};
  std::thread stopping([&] {
    server_->Shutdown(std::chrono::system_clock::now() + drain);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  service_->FinishPending();  // calls still forwarding after the drain, cancelled by gRPC
  stopping.join();
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace axon::gateway
