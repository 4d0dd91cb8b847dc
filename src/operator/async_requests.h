// The operator's async listener: where the gateway sends the requests of AsyncAPIs. It owns no
// state of its own: each submission goes into the work queue (store/work_queue.h) before it is
// answered, and each status read comes from there.
//
//   POST /_axon/async/NAME      stores the body (and its Content-Type) as a new request of
//                               AsyncAPI NAME; answers {"id"} once it is on disk
//   GET  /_axon/async/NAME/ID   {"id", "status", "result"?, "error"?, "timestamp"}: status is
//                               in_queue, in_progress, completed (with the predictor's result)
//                               or failed (with the error); the timestamp is the last change
//   *    /_axon/async/NAME[/ID] of a BatchAPI or TaskAPI: its job calls (job_requests.h)
//
// Every call needs the platform token as a bearer token (the gateway adds it after checking
// the API's own keys). The listener is an abstract Unix socket private to this AXON_HOME.
//
// Threading: Handle() runs on the listener's I/O thread and moves the SQLite work to its own
// worker threads; `on_submit` runs on one of them after each stored request.
#pragma once

#include <functional>
#include <string>

#include "http/beast.h"
#include "operator/controller.h"
#include "operator/job_runner.h"
#include "store/work_queue.h"

namespace axon::operator_ {

class AsyncRequests {
 public:
  // `controller`, `queue` and `jobs` (may be null: no job API takes jobs) must outlive this.
  AsyncRequests(const Controller& controller, store::WorkQueue& queue, std::string token,
                std::function<void()> on_submit, int workers = 2, JobRunner* jobs = nullptr);
  ~AsyncRequests();

  http::asio::awaitable<http::Response> Handle(http::Request& request);

  // The JSON of one request's status, as GET answers it.
  static nlohmann::json StatusJson(const store::Item& item);

 private:
  http::Response Route(const http::Request& request);
  http::Response Submit(const AsyncApiView& api, const http::Request& request);
  http::Response Read(const AsyncApiView& api, const std::string& id);

  const Controller& controller_;
  store::WorkQueue& queue_;
  const std::string token_;
  const std::function<void()> on_submit_;
  JobRunner* const jobs_;
  http::asio::thread_pool workers_;
};

// The path prefix of the async listener's calls.
inline constexpr std::string_view kAsyncPathPrefix = "/_axon/async/";

}  // namespace axon::operator_
