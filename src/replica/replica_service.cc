#include "replica/replica_service.h"

#include <spdlog/spdlog.h>

#include "common/exposition.h"
#include "common/log.h"
#include "http/responses.h"
#include "http/sse.h"
#include "http/url.h"
#include "protocol/v2_types.h"

namespace axon::replica {
namespace bhttp = http::bhttp;

namespace {

constexpr std::string_view kRequestIdHeader = "X-Request-ID";
constexpr std::string_view kNdjsonType = "application/x-ndjson";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";

// An exception that escaped a predictor (a bug, or memory exhausted) is a 500 for its requests;
// the replica keeps serving.
PredictResponse EscapedException(const char* what) {
  return PredictResponse::Failure(500, std::string("the predictor failed: ") + what);
}

PredictResponse SafePredict(Predictor* predictor, const PredictRequest& call) {
  try {
    return predictor->Predict(call);
  } catch (const std::exception& e) {
    return EscapedException(e.what());
  } catch (...) {
    return EscapedException("unknown exception");
  }
}

std::optional<PredictResponse> SafeNext(AnswerStream& stream) {
  try {
    return stream.Next();
  } catch (const std::exception& e) {
    return EscapedException(e.what());
  } catch (...) {
    return EscapedException("unknown exception");
  }
}

void SafeClose(AnswerStream& stream) {
  try {
    stream.Close();
  } catch (const std::exception& e) {
    spdlog::error("closing a streamed answer failed: {}", e.what());
  }
}

// {"error": message, "request_id": id} (without an id when there is none).
nlohmann::json ErrorBody(const PredictResponse& answer, std::string_view request_id) {
  nlohmann::json body = {{"error", *answer.error}};
  if (!request_id.empty()) body["request_id"] = request_id;
  return body;
}

// One item of a streamed answer as it goes on the wire: an event, or its bytes (a JSON value
// followed by a newline: newline-delimited JSON).
void FrameItem(const PredictResponse& item, bool events, std::string& out) {
  out.clear();
  if (events) {
    http::AppendEvent(item.body, {}, out);
    return;
  }
  out = item.body;
  if (item.content_type == kNdjsonType) out += '\n';
}

// The HTTP answer for `answer`: failures as {"error", "request_id"}, their detail logged.
http::Response ToResponse(PredictResponse answer, std::string_view request_id) {
  if (!answer.error) {
    http::Response response =
        http::TextResponse(answer.status, std::move(answer.body), answer.content_type);
    if (answer.batch_size > 0) {
      response.set("X-Axon-Batch-Size", std::to_string(answer.batch_size));
    }
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    return response;
  }
  return http::JsonResponse(answer.status, ErrorBody(answer, request_id));
}

}  // namespace

ReplicaService::ReplicaService(std::string api_name, std::string api_version,
                               std::string replica_id, int execution_threads,
                               const spec::BatchingSpec& batching)
    : api_name_(std::move(api_name)),
      api_version_(std::move(api_version)),
      replica_id_(std::move(replica_id)),
      execution_(batching.enabled() ? 1 : execution_threads) {
  if (batching.enabled()) {
    batcher_ = std::make_unique<Batcher<BatchedCall>>(
        static_cast<size_t>(batching.max_batch_size), batching.batch_interval, execution_threads,
        [this](std::vector<BatchedCall>& batch) { RunBatch(batch, /*elsewhere=*/true); });
  }
}

ReplicaService::~ReplicaService() { Stop(); }

void ReplicaService::SetPredictor(std::unique_ptr<Predictor> predictor,
                                  std::chrono::milliseconds load_time) {
  load_time_ms_.store(load_time.count(), std::memory_order_relaxed);
  owned_ = std::move(predictor);
  predictor_.store(owned_.get(), std::memory_order_release);
}

void ReplicaService::Stop() {
  predictor_.store(nullptr, std::memory_order_release);
  batcher_.reset();  // runs what is queued
  execution_.Join();
  owned_.reset();
}

void ReplicaService::RunBatch(std::vector<BatchedCall>& batch, bool elsewhere) {
  Predictor* predictor = owned_.get();
  batch_sizes_.Observe(batch.size());
  const auto started = std::chrono::steady_clock::now();
  for (const auto& call : batch) {
    queue_wait_us_.Observe(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(started - call.submitted).count()));
  }
  std::vector<const PredictRequest*> requests;
  requests.reserve(batch.size());
  for (const auto& call : batch) requests.push_back(call.request);
  std::vector<PredictResponse> answers;
  try {
    answers = predictor->PredictBatch(requests);
  } catch (const std::exception& e) {
    answers.assign(batch.size(), EscapedException(e.what()));
  } catch (...) {
    answers.assign(batch.size(), EscapedException("unknown exception"));
  }
  if (answers.size() != batch.size()) {  // every waiting request must get an answer
    answers.assign(batch.size(),
                   PredictResponse::Failure(
                       500, "the predictor returned " + std::to_string(answers.size()) +
                                " answers for " + std::to_string(batch.size()) + " requests"));
  }
  execution_.Observe(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count(),
                     elsewhere);
  for (size_t i = 0; i < batch.size(); ++i) batch[i].resume(std::move(answers[i]));
}

http::asio::awaitable<PredictResponse> ReplicaService::Run(Predictor* predictor,
                                                           const PredictRequest& call) {
  if (!batcher_) {
    co_return co_await execution_.Run<PredictResponse>(
        [predictor, &call] { return SafePredict(predictor, call); });
  }
  // A lone request on an idle adaptive batcher: a batch of one on this thread, while batches
  // are cheap and the thread has time to spare (Execution's rules), sparing two handoffs.
  if (execution_.InlineNow() && batcher_->TryClaimIdle()) {
    struct Claim {
      Batcher<BatchedCall>& batcher;
      ~Claim() { batcher.EndClaim(); }
    } claim{*batcher_};
    PredictResponse answer;
    std::vector<BatchedCall> alone{{&call, [&answer](PredictResponse a) { answer = std::move(a); },
                                    std::chrono::steady_clock::now()}};
    RunBatch(alone, /*elsewhere=*/false);
    co_return answer;
  }
  namespace asio = http::asio;
  auto initiate = [this, &call](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    batcher_->Submit({&call,
                      [shared](PredictResponse answer) {
                        auto io = asio::get_associated_executor(*shared);
                        asio::post(io, [shared, answer = std::move(answer)]() mutable {
                          std::move (*shared)(std::move(answer));
                        });
                      },
                      std::chrono::steady_clock::now()});
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(PredictResponse)>(
      std::move(initiate), asio::use_awaitable);
}

void ReplicaService::NoteFailure(const PredictResponse& answer, std::string_view request_id) {
  (answer.status >= 500 ? errors_5xx_ : errors_4xx_).fetch_add(1);
  if (!answer.log_detail.empty()) {
    LogForRequest(
        spdlog::level::err, request_id,
        fmt::format("request {}: {}", request_id.empty() ? "-" : request_id, answer.log_detail));
  }
}

http::asio::awaitable<http::Response> ReplicaService::StreamAnswer(
    std::shared_ptr<AnswerStream> stream, bool events, std::string_view request_id,
    http::BodyWriter& writer) {
  auto next = [this, &stream] {
    return execution_.Offload<std::optional<PredictResponse>>(
        [&stream] { return SafeNext(*stream); });
  };
  auto close = [this, &stream] {
    return execution_.Offload<bool>([&stream] {
      SafeClose(*stream);
      return true;
    });
  };
  std::optional<PredictResponse> item = co_await next();
  if (!item || item->error) {  // nothing to stream: an ordinary answer
    co_await close();
    if (!item) co_return http::TextResponse(200, "", events ? http::kEventStreamType : kTextType);
    NoteFailure(*item, request_id);
    co_return ToResponse(std::move(*item), request_id);
  }
  http::Response head =
      http::TextResponse(200, "", events ? http::kEventStreamType : item->content_type);
  if (events) head.set(bhttp::field::cache_control, "no-cache");
  writer.Begin(std::move(head));
  std::string piece;
  for (;;) {
    FrameItem(*item, events, piece);
    if (!co_await writer.Write(piece)) {
      LogForRequest(spdlog::level::info, request_id,
                    fmt::format("request {}: the client went away; the streamed answer stops",
                                request_id.empty() ? "-" : request_id));
      break;
    }
    item = co_await next();
    if (!item) break;
    if (item->error) {
      NoteFailure(*item, request_id);
      if (events) {
        piece.clear();
        http::AppendEvent(ErrorBody(*item, request_id)
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                          "error", piece);
        co_await writer.Write(piece);
      } else {
        writer.Abort();
      }
      break;
    }
  }
  co_await close();
  co_return http::Response();  // not sent: the answer went through `writer`
}

http::asio::awaitable<http::Response> ReplicaService::Handle(http::Request& request,
                                                             http::BodyWriter& writer) {
  const std::string_view path = http::TargetPath(request.target());
  Predictor* predictor = predictor_.load(std::memory_order_acquire);
  if (path == "/healthz") {
    co_return predictor != nullptr
        ? http::JsonResponse(200, {{"status", "ready"}, {"replica", replica_id_}})
        : http::JsonResponse(503, {{"status", "loading"}, {"replica", replica_id_}});
  }
  if (path == "/metrics") {
    if (request.method() != bhttp::verb::get) co_return http::JsonError(405, "use GET");
    co_return http::TextResponse(200, Metrics(), kExpositionContentType);
  }
  if (path == "/stats") {
    if (request.method() != bhttp::verb::get) co_return http::JsonError(405, "use GET");
    co_return http::JsonResponse(200, contract::ToJson(Stats()));
  }
  if (path != "/predict" && path != "/metadata" && path != protocol::v2::kReplicaInferPath) {
    co_return http::JsonError(404, "no such path " + std::string(path));
  }
  const std::string_view request_id = request[kRequestIdHeader];
  if (predictor == nullptr) {
    co_return http::JsonError(503, "replica " + replica_id_ + " is still loading its predictor");
  }
  if (path == "/metadata") {
    if (request.method() != bhttp::verb::get) co_return http::JsonError(405, "use GET");
    std::optional<nlohmann::json> metadata = predictor->Metadata();
    if (!metadata) {
      co_return http::JsonError(404, "api " + api_name_ +
                                         " has no model to describe (a Python predictor "
                                         "without models)");
    }
    (*metadata)["name"] = api_name_;
    co_return http::JsonResponse(200, *metadata);
  }
  const bool v2 = path == protocol::v2::kReplicaInferPath;
  if (v2 && request.method() != bhttp::verb::post) co_return http::JsonError(405, "use POST");
  if (request.method() != bhttp::verb::post && request.method() != bhttp::verb::get) {
    co_return http::JsonError(405, "use POST (or GET if the predictor has get())");
  }
  PredictRequest call;
  call.is_get = request.method() == bhttp::verb::get;
  call.protocol = v2 ? Protocol::kOpenInference : Protocol::kEndpoint;
  call.model_name = api_name_;
  call.model_version = api_version_;
  call.body = request.body();
  call.content_type = request[bhttp::field::content_type];
  call.query = http::TargetQuery(request.target());
  call.query_params = http::ParseQuery(call.query);
  call.headers.reserve(8);
  for (const auto& field : request) {
    call.headers.emplace_back(field.name_string(), field.value());
  }
  PredictResponse answer = co_await Run(predictor, call);
  if (answer.stream) {
    co_return co_await StreamAnswer(std::move(answer.stream),
                                    http::AcceptsEventStream(request[bhttp::field::accept]),
                                    request_id, writer);
  }
  if (answer.error) NoteFailure(answer, request_id);
  co_return ToResponse(std::move(answer), request_id);
}

std::string ReplicaService::Metrics() const {
  const std::string version = api_version_.empty() ? "none" : api_version_;
  const MetricLabels labels{{"api", api_name_}, {"version", version}, {"replica", replica_id_}};
  Exposition out;
  out.Family("axon_predictor_errors_total", "counter",
             "Predictions a replica answered with an error, by class (4xx: the predictor refused "
             "the request; 5xx: it failed).");
  const std::pair<const char*, const std::atomic<uint64_t>*> errors[] = {{"4xx", &errors_4xx_},
                                                                         {"5xx", &errors_5xx_}};
  for (const auto& [cls, n] : errors) {
    MetricLabels with_class = labels;
    with_class.emplace_back("class", cls);
    out.Sample("axon_predictor_errors_total", with_class,
               static_cast<double>(n->load(std::memory_order_relaxed)));
  }
  out.Family("axon_batch_size", "histogram",
             "Requests per batch a replica ran (APIs with server_side_batching).");
  if (batcher_) out.Histogram("axon_batch_size", labels, batch_sizes_.Snapshot());
  out.Family("axon_batch_queue_wait_seconds", "histogram",
             "Time a request waited in a replica's batch queue before its batch ran (APIs with "
             "server_side_batching).");
  if (batcher_) {
    out.Histogram("axon_batch_queue_wait_seconds", labels, queue_wait_us_.Snapshot(), 1e6);
  }
  out.Family("axon_model_load_seconds", "gauge",
             "How long a replica took to load its predictor (set once it is ready).");
  if (const int64_t ms = load_time_ms_.load(std::memory_order_relaxed); ms >= 0) {
    out.Sample("axon_model_load_seconds", labels, static_cast<double>(ms) / 1000.0);
  }
  return out.Take();
}

contract::ReplicaStats ReplicaService::Stats() const {
  contract::ReplicaStats stats;
  stats.batching = batcher_ != nullptr;
  stats.batch_size = batch_sizes_.Snapshot();
  stats.queue_wait_us = queue_wait_us_.Snapshot();
  return stats;
}

}  // namespace axon::replica
