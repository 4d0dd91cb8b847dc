// The contract between a replica and a model backend (Python today; native runtimes later).
//
// A Predictor is constructed once per replica process, then Predict() is called concurrently
// from up to threads_per_process execution threads (never from I/O threads). Implementations
// are responsible for their own internal locking (the Python backend takes the GIL).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axon::replica {

using KeyValues = std::vector<std::pair<std::string, std::string>>;
// Views into the HTTP request, valid for the duration of one Predict() call.
using KeyValueViews = std::vector<std::pair<std::string_view, std::string_view>>;

struct PredictRequest {
  bool is_get = false;            // GET (predictor's get()) rather than POST (predict())
  std::string_view body;          // raw request body
  std::string_view content_type;  // as sent; decides how the body is decoded
  KeyValues query_params;         // decoded query string
  KeyValueViews headers;          // request headers, including X-Request-ID
};

struct PredictResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  // Thread-safe. Errors in user code are answers (status 4xx/5xx with a JSON error body), not
  // exceptions.
  virtual PredictResponse Predict(const PredictRequest& request) = 0;
};

}  // namespace axon::replica
