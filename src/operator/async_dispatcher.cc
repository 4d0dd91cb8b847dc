#include "operator/async_dispatcher.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "http/client.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;

}  // namespace

std::string ReplicaAnswerError(const http::Response& response) {
  const auto json = nlohmann::json::parse(response.body(), nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    return json["error"].get<std::string>();
  }
  constexpr size_t kMaxError = 1000;
  std::string text = response.body().substr(0, kMaxError);
  if (text.empty()) text = "status " + std::to_string(response.result_int());
  return text;
}

AsyncDispatcher::AsyncDispatcher(Options options, store::WorkQueue& queue,
                                 std::function<std::vector<AsyncApiView>()> apis)
    : options_(std::move(options)),
      queue_(queue),
      apis_(std::move(apis)),
      loop_([this] { Run(); }) {}

AsyncDispatcher::~AsyncDispatcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  loop_.join();
  std::list<Exchange> left;
  {
    std::lock_guard lock(mu_);
    left.swap(exchanges_);
  }
  for (auto& e : left) e.thread.join();
}

void AsyncDispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void AsyncDispatcher::Run() {
  // Leases of an earlier operator of this AXON_HOME: it is gone, so are its requests.
  if (auto released = queue_.ReleaseWorker(options_.worker, UnixNowMs()); !released.ok()) {
    spdlog::error("async: cannot release earlier leases: {}", released.status().message());
  } else if (*released > 0) {
    spdlog::info(
        "async: {} requests that were running when the operator stopped are queued "
        "again",
        *released);
  }
  auto next_expiry = std::chrono::steady_clock::now();
  auto next_sweep = next_expiry;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    JoinFinished();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_expiry) {
      next_expiry = now + options_.expiry_check;
      auto expired = queue_.ExpireLeases(UnixNowMs());
      if (expired.ok() && *expired > 0) {
        spdlog::warn("async: {} leases passed their deadline; their requests are queued again",
                     *expired);
      }
    }
    if (now >= next_sweep) {
      next_sweep = now + options_.retention_sweep;
      auto removed = queue_.RemoveExpired(UnixNowMs());
      if (removed.ok() && *removed > 0) {
        spdlog::info("async: removed {} results past their retention", *removed);
      }
    }
    try {
      Dispatch(UnixNowMs());
    } catch (const std::exception& e) {
      spdlog::error("async: dispatch pass failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, options_.tick, [this] { return stop_ || wake_; });
    wake_ = false;
  }
}

void AsyncDispatcher::Dispatch(int64_t now_ms) {
  const std::vector<AsyncApiView> apis = apis_();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  std::erase_if(avoid_, [now](const auto& entry) { return entry.second <= now; });
  for (const AsyncApiView& api : apis) {
    bool empty = false;
    for (const ReplicaStatus& replica : api.ready) {
      if (avoid_.contains(replica.id)) continue;
      while (!empty && !stop_ && in_flight_ < options_.max_in_flight &&
             busy_[replica.id] < api.per_replica) {
        const int64_t deadline = now_ms + (api.timeout + options_.lease_margin).count();
        auto lease = queue_.Take(api.queue_name, options_.worker, deadline, now_ms);
        if (!lease.ok()) {
          spdlog::error("async: api {}: cannot take a request: {}", api.name,
                        lease.status().message());
          return;
        }
        if (!lease->has_value()) {
          empty = true;
          break;
        }
        ++busy_[replica.id];
        ++in_flight_;
        Exchange& exchange = exchanges_.emplace_back();
        exchange.thread =
            std::thread([this, api, replica, lease = std::move(**lease), e = &exchange]() mutable {
              Send(api, replica, std::move(lease), e);
            });
      }
    }
  }
}

void AsyncDispatcher::Send(const AsyncApiView& api, const ReplicaStatus& replica,
                           store::Lease lease, Exchange* exchange) {
  http::Request request = http::MakeRequest(bhttp::verb::post, "/predict", {},
                                            std::move(lease.payload), lease.content_type);
  if (lease.content_type.empty()) request.erase(bhttp::field::content_type);
  request.set("X-Request-ID", lease.id);
  http::Peer peer{.host = replica.host.empty() ? "127.0.0.1" : replica.host,
                  .port = replica.port,
                  .unix_socket = replica.socket};
  const auto started = std::chrono::steady_clock::now();
  StatusOr<http::Response> answer = http::Fetch(peer, std::move(request), api.timeout);
  try {
    if (Finish(api, replica, lease, answer) && !api.job_id.empty() && options_.job_item_finished) {
      options_.job_item_finished(api, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started));
    }
  } catch (const std::exception& e) {
    spdlog::error("async: api {}: request {}: {}", api.name, lease.id, e.what());
  }
  {
    std::lock_guard lock(mu_);
    if (!answer.ok()) {
      avoid_[replica.id] = std::chrono::steady_clock::now() + options_.avoid_after_failure;
    }
    --busy_[replica.id];
    if (busy_[replica.id] <= 0) busy_.erase(replica.id);
    --in_flight_;
    exchange->done = true;
    wake_ = true;  // a replica is free
  }
  cv_.notify_all();
}

bool AsyncDispatcher::Finish(const AsyncApiView& api, const ReplicaStatus& replica,
                             const store::Lease& lease, const StatusOr<http::Response>& answer) {
  const int64_t now = UnixNowMs();
  StatusOr<bool> current = false;
  bool given_back = true;
  if (!answer.ok() || answer->result_int() == 503) {
    const std::string why =
        !answer.ok() ? answer.status().message() : "it answered " + ReplicaAnswerError(*answer);
    spdlog::warn("async: api {}: request {} (attempt {}) on replica {}: {}; giving it back",
                 api.name, lease.id, lease.attempt, replica.id, why);
    const bool timed_out = !answer.ok() && answer.status().message().starts_with("no answer");
    const std::string reason =
        "replica " + replica.id + " of api " + api.name +
        (timed_out ? " did not answer within " + std::to_string(api.timeout.count()) + " ms"
                   : " stopped before answering");
    current = queue_.GiveBack(lease, reason, now);
  } else if (answer->result_int() / 100 == 2) {
    given_back = false;
    current = queue_.Complete(lease, answer->body(),
                              std::string((*answer)[bhttp::field::content_type]), now);
  } else if (api.retry_errors) {
    current = queue_.GiveBack(lease, ReplicaAnswerError(*answer), now);
  } else {
    given_back = false;
    current = queue_.Fail(lease, ReplicaAnswerError(*answer), now);
  }
  if (!current.ok()) {
    spdlog::error("async: api {}: request {}: {}", api.name, lease.id, current.status().message());
    return false;
  }
  if (!*current) {
    spdlog::warn("async: api {}: request {}: its lease had ended; the answer is dropped", api.name,
                 lease.id);
    return false;
  }
  // A lease given back at its last attempt failed the item (WorkQueue::GiveBack).
  return !given_back || lease.attempt >= api.queue.max_attempts;
}

void AsyncDispatcher::JoinFinished() {
  std::list<Exchange> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = exchanges_.begin(); it != exchanges_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), exchanges_, it);
      it = next;
    }
  }
  for (auto& e : finished) e.thread.join();
}

}  // namespace axon::operator_
