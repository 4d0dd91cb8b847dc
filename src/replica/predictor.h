// The contract between a replica and what answers its requests: the Python backend, or
// NativePredictor in front of a native model (model.h).
//
// A Predictor is constructed once per replica process, then Predict() or PredictBatch() is called
// concurrently from up to threads_per_process execution threads (never from I/O threads).
// Implementations are responsible for their own internal locking (the Python backend takes the
// GIL).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/redact.h"

namespace axon::replica {

using KeyValues = std::vector<std::pair<std::string, std::string>>;
// Views into the HTTP request, valid for the duration of one Predict() call.
using KeyValueViews = std::vector<std::pair<std::string_view, std::string_view>>;

// How a request reached the replica: at the API's own endpoint (POST|GET /predict, whose
// format the predictor chooses), or in the Open Inference Protocol (POST /v2/infer, see
// replica/v2_infer.h).
enum class Protocol { kEndpoint, kOpenInference };

struct PredictRequest {
  bool is_get = false;  // GET (predictor's get()) rather than POST (predict())
  Protocol protocol = Protocol::kEndpoint;
  std::string_view body;          // raw request body
  std::string_view content_type;  // as sent; decides how the body is decoded
  std::string_view query;         // the query string as sent, without "?"
  KeyValues query_params;         // decoded query string
  KeyValueViews headers;          // request headers, including X-Request-ID
  // The model, as the Open Inference Protocol names it: the API and the API version this
  // replica serves ("" when it was not told).
  std::string_view model_name;
  std::string_view model_version;
};

class AnswerStream;

struct PredictResponse {
  int status = 200;
  std::string body;  // the answer; unused when `error` is set
  std::string content_type = "application/json";
  int batch_size = 0;  // requests in the batch that answered this one; 0 when not batched
  KeyValues headers;   // further response headers (Inference-Header-Content-Length)
  // A failure: the message the client sees (the replica sends {"error": ..., "request_id":
  // ...}). Never a server path or a traceback: see Failure().
  std::optional<std::string> error;
  // A failure's detail for the API's log (logged under the request id), never sent.
  std::string log_detail;
  // Set when the answer is streamed (then `body` is unused): its items, produced one by one.
  std::shared_ptr<AnswerStream> stream;

  // A failure whose message is fit for the client as it is (our own words).
  static PredictResponse Error(int status, std::string message) {
    PredictResponse r;
    r.status = status;
    r.error = std::move(message);
    return r;
  }
  // A failure of a runtime or of user code: the client gets PublicMessage(detail) (one line,
  // paths removed), the log gets `detail`.
  static PredictResponse Failure(int status, std::string detail) {
    PredictResponse r = Error(status, PublicMessage(detail));
    r.log_detail = std::move(detail);
    return r;
  }
};

// A streamed answer: a Python predict() that returned a generator (or another iterator).
// Next() and Close() are called from execution threads, one call at a time, never
// concurrently; Close() exactly once, last, whether or not Next() reached the end (the client
// may have gone away). Close() releases what the stream holds (it stops the generator).
class AnswerStream {
 public:
  virtual ~AnswerStream() = default;
  // The next item, as `body` and `content_type` (text/plain, application/octet-stream, or
  // application/x-ndjson for one JSON value); a failure as PredictResponse::Error/Failure
  // (which ends the stream); nullopt at the end.
  virtual std::optional<PredictResponse> Next() = 0;
  virtual void Close() = 0;
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  // Thread-safe. Errors in user code are answers (PredictResponse::Error/Failure), not
  // exceptions; an exception that escapes anyway is answered 500 by the caller.
  virtual PredictResponse Predict(const PredictRequest& request) = 0;
  // Answers several requests in one model call (server_side_batching): one response per
  // request, in order (the caller answers 500 to all if the count is wrong). The default calls
  // Predict() on each.
  virtual std::vector<PredictResponse> PredictBatch(
      std::span<const PredictRequest* const> requests) {
    std::vector<PredictResponse> out;
    out.reserve(requests.size());
    for (const PredictRequest* request : requests) out.push_back(Predict(*request));
    return out;
  }
  // What GET <endpoint>/metadata answers: the model's inputs and outputs, or nullopt when the
  // predictor has none to describe.
  virtual std::optional<nlohmann::json> Metadata() const { return std::nullopt; }
};

}  // namespace axon::replica
