#include "replica/replica_service.h"

#include "http/responses.h"
#include "http/url.h"
#include "replica/executor.h"

namespace axon::replica {
namespace bhttp = http::bhttp;

ReplicaService::ReplicaService(std::string api_name, std::string replica_id, int execution_threads)
    : api_name_(std::move(api_name)),
      replica_id_(std::move(replica_id)),
      execution_(static_cast<size_t>(std::max(1, execution_threads))) {}

ReplicaService::~ReplicaService() { Stop(); }

void ReplicaService::SetPredictor(std::unique_ptr<Predictor> predictor) {
  owned_ = std::move(predictor);
  predictor_.store(owned_.get(), std::memory_order_release);
}

void ReplicaService::Stop() {
  predictor_.store(nullptr, std::memory_order_release);
  execution_.join();
  owned_.reset();
}

http::asio::awaitable<http::Response> ReplicaService::Handle(http::Request& request) {
  const std::string_view path = http::TargetPath(request.target());
  Predictor* predictor = predictor_.load(std::memory_order_acquire);
  if (path == "/healthz") {
    co_return predictor != nullptr
        ? http::JsonResponse(200, {{"status", "ready"}, {"replica", replica_id_}})
        : http::JsonResponse(503, {{"status", "loading"}, {"replica", replica_id_}});
  }
  if (path != "/predict") co_return http::JsonError(404, "no such path " + std::string(path));
  if (predictor == nullptr) {
    co_return http::JsonError(503, "replica " + replica_id_ + " is still loading its predictor");
  }
  if (request.method() != bhttp::verb::post && request.method() != bhttp::verb::get) {
    co_return http::JsonError(405, "use POST (or GET if the predictor has get())");
  }
  PredictRequest call;
  call.is_get = request.method() == bhttp::verb::get;
  call.body = request.body();
  call.content_type = request[bhttp::field::content_type];
  call.query_params = http::ParseQuery(http::TargetQuery(request.target()));
  call.headers.reserve(8);
  for (const auto& field : request) {
    call.headers.emplace_back(field.name_string(), field.value());
  }
  PredictResponse answer = co_await RunOn<PredictResponse>(
      execution_, [predictor, &call] { return predictor->Predict(call); });
  co_return http::TextResponse(answer.status, std::move(answer.body), answer.content_type);
}

}  // namespace axon::replica
