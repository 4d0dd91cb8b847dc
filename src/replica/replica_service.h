// The HTTP face of one replica: GET /healthz (200 once the predictor is loaded, 503 before),
// POST /predict and GET /predict (run by Execution: on execution threads, or inline on the I/O
// thread while the predictor's calls are cheap; see execution.h), POST /v2/infer (an Open
// Inference Protocol request, run the same way; see v2_infer.h), GET /metadata (the model's
// inputs and outputs, for predictors that have a model), GET /metrics (the replica's Prometheus
// metrics: predictor errors, batch sizes, batch queue wait, model load time;
// docs/observability.md), GET /stats (batch sizes and batch queue wait for `axon describe`;
// contract/replica_stats.h).
//
// With server_side_batching, predict calls go through a Batcher whose workers are the execution
// threads (a lone request on an idle adaptive batcher runs as a batch of one on the I/O thread,
// by Execution's rules); without it, each call runs on its own (Execution::Run).
//
// A streamed answer (PredictResponse::stream) is sent through the BodyWriter as its items come:
// each item is produced on an execution thread (one at a time, so other requests run in
// between) and written before the next is asked for. The first item decides: a failure before
// it is an ordinary error answer, and the answer's content type is the first item's, or
// text/event-stream (one event per item) when the request's Accept header asks for it. A
// failure after it ends the stream: with an `error` event for event streams, otherwise by
// closing the connection without the last chunk; its detail goes to the log only. When the
// client goes away the stream is closed at once (a generator's close()).
//
// Threading: Handle() runs on I/O threads; SetPredictor() once from the loading thread. The
// predictor pointer is published with release/acquire ordering.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/histogram.h"
#include "contract/replica_stats.h"
#include "http/beast.h"
#include "http/body_writer.h"
#include "replica/batcher.h"
#include "replica/execution.h"
#include "replica/predictor.h"
#include "spec/api_spec.h"

namespace axon::replica {

class ReplicaService {
 public:
  // `api_version`: the API version this replica serves, "" if unknown (named in v2 answers).
  ReplicaService(std::string api_name, std::string api_version, std::string replica_id,
                 int execution_threads, const spec::BatchingSpec& batching);
  ~ReplicaService();

  // Makes the replica ready. Call once. `load_time`: how long loading the predictor took.
  void SetPredictor(std::unique_ptr<Predictor> predictor,
                    std::chrono::milliseconds load_time = std::chrono::milliseconds(0));
  // Joins the execution threads and destroys the predictor; call after the server stopped.
  void Stop();

  http::asio::awaitable<http::Response> Handle(http::Request& request, http::BodyWriter& writer);

 private:
  // A predict call waiting in the batcher, and how to resume its coroutine with the answer.
  struct BatchedCall {
    const PredictRequest* request;
    std::function<void(PredictResponse)> resume;
    std::chrono::steady_clock::time_point submitted;
  };

  http::asio::awaitable<PredictResponse> Run(Predictor* predictor, const PredictRequest& call);
  // Runs `batch` with one PredictBatch() and resumes each call; its time goes to execution_'s
  // mean, as a call run `elsewhere` (a batcher worker) or inline.
  void RunBatch(std::vector<BatchedCall>& batch, bool elsewhere);
  // Sends `stream` through `writer` (see above); returns the answer when nothing was streamed.
  http::asio::awaitable<http::Response> StreamAnswer(std::shared_ptr<AnswerStream> stream,
                                                     bool events, std::string_view request_id,
                                                     http::BodyWriter& writer);
  // Counts a failed answer and logs its detail (if any) under the request id.
  void NoteFailure(const PredictResponse& answer, std::string_view request_id);
  std::string Metrics() const;
  contract::ReplicaStats Stats() const;

  const std::string api_name_;
  const std::string api_version_;
  const std::string replica_id_;
  Execution execution_;
  std::unique_ptr<Batcher<BatchedCall>> batcher_;  // null without server_side_batching
  std::unique_ptr<Predictor> owned_;
  std::atomic<Predictor*> predictor_{nullptr};
  std::atomic<int64_t> load_time_ms_{-1};  // -1 until the predictor is loaded
  // Failed answers of the predictor (or of the replica around it), 4xx and 5xx.
  std::atomic<uint64_t> errors_4xx_{0};
  std::atomic<uint64_t> errors_5xx_{0};
  // With server_side_batching only: requests per batch, and how long each request waited in
  // the batch queue (microseconds).
  Histogram batch_sizes_{kBatchSizeBounds};
  Histogram queue_wait_us_{kLatencyBoundsUs};
};

}  // namespace axon::replica
