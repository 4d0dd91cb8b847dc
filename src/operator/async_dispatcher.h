// Feeds AsyncAPI replicas from the work queue. For each ready replica of each AsyncAPI it
// keeps up to threads_per_process requests running: it leases the oldest waiting request
// (with a deadline of the API's timeout plus a margin), sends it to the replica's /predict as a
// client would (body, Content-Type, X-Request-ID: the request's id), and ends the lease with
// the answer:
//   2xx                        completed, the body is the result
//   no answer (the replica     given back: queued again, or failed after queue.max_attempts
//   died, timed out), or 503   runs ("replica R of api A stopped before answering: ...")
//   any other status           failed, with the predictor's error (one line, no paths); a
//                              job's batch (retry_errors) is given back, and fails with the
//                              error after queue.max_attempts runs
// Leases past their deadline (this process was killed while it held them and a new one has not
// released them yet) are given back every second, and finished requests past their retention
// are removed every second.
//
// The worker name (`Options::worker`) is the same for every operator of an AXON_HOME (one runs
// at a time): at start, the dispatcher gives back every lease that name holds, since the
// operator that took them is gone.
//
// Threading: one loop thread, plus one thread per request being sent (at most
// max_in_flight); all are joined by the destructor, which waits for requests in flight (each
// bounded by its API's timeout). Wake() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/beast.h"
#include "operator/controller.h"
#include "store/work_queue.h"

namespace axon::operator_ {

// A replica's error answer as one line: its {"error"}, else the start of its body.
std::string ReplicaAnswerError(const http::Response& response);

class AsyncDispatcher {
 public:
  struct Options {
    std::string worker = "operator";
    std::chrono::milliseconds tick{100};             // looks at the queues at least this often
    std::chrono::milliseconds lease_margin{30'000};  // beyond the API's timeout
    std::chrono::milliseconds expiry_check{1'000};
    std::chrono::milliseconds retention_sweep{1'000};
    int64_t max_in_flight = 256;
    std::chrono::milliseconds avoid_after_failure{2'000};  // a replica that did not answer
    // Called (on a sending thread) when an item of a job's queue (AsyncApiView::job_id) has
    // finished for good, completed or failed, with the time its last run took.
    std::function<void(const AsyncApiView&, std::chrono::milliseconds)> job_item_finished;
  };
  // `apis` lists the queues with their ready replicas (Controller::AsyncApis, JobRunner::Views);
  // `queue` must outlive the dispatcher.
  AsyncDispatcher(Options options, store::WorkQueue& queue,
                  std::function<std::vector<AsyncApiView>()> apis);
  ~AsyncDispatcher();
  AsyncDispatcher(const AsyncDispatcher&) = delete;
  AsyncDispatcher& operator=(const AsyncDispatcher&) = delete;

  // Looks at the queues now (a request was submitted, or a replica got ready).
  void Wake();

 private:
  struct Exchange {
    std::thread thread;
    bool done = false;  // guarded by mu_
  };
  void Run();
  // Leases and starts what the ready replicas can take now.
  void Dispatch(int64_t now_ms);
  // One request on one replica (on its own thread), then the lease's end.
  void Send(const AsyncApiView& api, const ReplicaStatus& replica, store::Lease lease,
            Exchange* exchange);
  // Ends the lease with the answer; true when the item finished for good.
  bool Finish(const AsyncApiView& api, const ReplicaStatus& replica, const store::Lease& lease,
              const StatusOr<http::Response>& answer);
  void JoinFinished();  // mu_ not held

  const Options options_;
  store::WorkQueue& queue_;
  const std::function<std::vector<AsyncApiView>()> apis_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                    // guarded by mu_
  bool wake_ = false;                    // guarded by mu_
  std::map<std::string, int64_t> busy_;  // replica id -> requests sent to it; guarded by mu_
  // Replica id -> until when (steady clock) it gets no request: it did not answer the last one
  // (it died, most likely, and the backend has not seen it yet). Without this, a dead replica
  // still listed as ready would use up every attempt of the requests sent to it at once.
  std::map<std::string, std::chrono::steady_clock::time_point> avoid_;  // guarded by mu_
  int64_t in_flight_ = 0;                                               // guarded by mu_
  std::list<Exchange> exchanges_;                                       // guarded by mu_
  std::thread loop_;  // last: starts once the rest is built
};

}  // namespace axon::operator_
