#include "gateway/gateway.h"

#include <algorithm>
#include <optional>
#include <random>

#include <spdlog/spdlog.h>

#include "common/exposition.h"
#include "common/files.h"
#include "common/log.h"
#include "gateway/model_path.h"
#include "gateway/v2_path.h"
#include "http/responses.h"
#include "http/upstream_pool.h"
#include "http/url.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;
using http::Request;
using http::Response;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kRequestIdHeader = "X-Request-ID";
constexpr std::string_view kApiKeyHeader = "X-API-Key";
constexpr std::string_view kMetadataSuffix = "/metadata";
// Where the operator's async listener takes an AsyncAPI's requests (operator/async_requests.h).
constexpr std::string_view kAsyncPath = "/_axon/async/";
// How long a replica whose connection failed is passed over: a few reconcile ticks.
constexpr std::chrono::milliseconds kAvoidAfterFailure{2000};

// Headers that describe one connection, not the message, and must not be forwarded. One pass
// over the fields (a message has a handful), not a lookup for each name.
void StripHopByHop(bhttp::fields& fields) {
  for (auto it = fields.begin(); it != fields.end();) {
    switch (it->name()) {
      case bhttp::field::connection:
      case bhttp::field::keep_alive:
      case bhttp::field::proxy_authenticate:
      case bhttp::field::proxy_authorization:
      case bhttp::field::te:
      case bhttp::field::trailer:
      case bhttp::field::transfer_encoding:
      case bhttp::field::upgrade:
        it = fields.erase(it);
        break;
      default:
        ++it;
    }
  }
}

// A replica's streamed answer on its way to the client: the head gets the gateway's changes
// (hop-by-hop fields removed, X-Request-ID set), the pieces pass as they are.
class ToClient final : public http::BodyWriter {
 public:
  ToClient(http::BodyWriter& client, std::string_view request_id)
      : client_(client), request_id_(request_id) {}
  void Begin(Response head) override {
    StripHopByHop(head);
    head.set(kRequestIdHeader, request_id_);
    client_.Begin(std::move(head));
  }
  asio::awaitable<bool> Write(std::string_view piece) override { return client_.Write(piece); }
  void Abort() override { client_.Abort(); }
  bool began() const override { return client_.began(); }

 private:
  http::BodyWriter& client_;
  const std::string_view request_id_;
};

// {"error": message, "request_id": id}, with the id also in X-Request-ID.
Response Error(int status, std::string_view message, std::string_view request_id) {
  Response response =
      http::JsonResponse(status, nlohmann::json{{"error", message}, {"request_id", request_id}});
  response.set(kRequestIdHeader, request_id);
  return response;
}

// The key a client presented: `X-API-Key: KEY` or `Authorization: Bearer KEY`.
std::string_view PresentedKey(const Request& request) {
  const auto it = request.find(kApiKeyHeader);
  if (it != request.end()) return {it->value().data(), it->value().size()};
  return http::BearerToken(request);
}

// `version`: of that API version only (0: of any).
std::string NoReplicaMessage(const ApiRoute& api, int64_t version = 0) {
  return "api " + api.name() + " has no ready replica" +
         (version == 0 ? std::string() : " of version " + std::to_string(version)) +
         " (status: " + api.spec.status + ")";
}

std::string FullMessage(const ApiRoute& api) {
  if (api.replicas.empty()) {
    return "api " + api.name() + " is starting a replica and already holds " +
           std::to_string(api.spec.max_held) + " requests; retry later";
  }
  return "api " + api.name() + " is at capacity (" + std::to_string(api.replicas.size()) +
         " ready replicas with max_replica_concurrency " +
         std::to_string(api.spec.max_replica_concurrency) + ", and max_queue_length " +
         std::to_string(api.spec.max_queue_length) + " requests per replica waiting); retry later";
}

std::string WaitedMessage(const ApiRoute& api, bool for_start) {
  if (for_start) {
    return "api " + api.name() + " has no ready replica after waiting " +
           std::to_string(api.hold_timeout.count()) +
           " ms for one to start (status: " + api.spec.status + ")";
  }
  return "api " + api.name() + " had no free replica within " +
         std::to_string(api.timeout.count()) + " ms (every replica busy); retry later";
}

}  // namespace

// Each I/O thread keeps its own connections to replicas; when it first sees a new route
// table it drops idle connections to replicas that left.
Gateway::Upstreams& Gateway::ThreadUpstreams(const RouteTable& table) {
  thread_local Upstreams upstreams;
  thread_local const RouteTable* pruned_for = nullptr;
  if (pruned_for != &table) {
    upstreams.tcp.Prune(table.Endpoints());
    upstreams.local.Prune(table.LocalEndpoints());
    pruned_for = &table;
  }
  return upstreams;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t bits = rng();
  std::string id(16, '0');
  for (char& c : id) {
    c = kDigits[bits & 0xfU];
    bits >>= 4;
  }
  return id;
}

Gateway::Gateway(std::string token, std::filesystem::path routes_file)
    : token_(std::move(token)), routes_file_(std::move(routes_file)) {
  routes_.store(*RouteTable::Build({}, nullptr));
  if (routes_file_.empty()) return;
  auto saved = ReadFile(routes_file_);
  if (!saved.ok()) return;
  auto routes = contract::RouteTableFromJson(nlohmann::json::parse(*saved, nullptr, false));
  Status s = routes.ok() ? SetRoutes(*routes) : routes.status();
  if (!s.ok()) spdlog::warn("ignoring saved routes in {}: {}", routes_file_.string(), s.message());
}

Status Gateway::SetRoutes(const contract::RouteTable& routes) {
  auto previous = routes_.load();
  auto table = RouteTable::Build(routes, previous.get());
  if (!table.ok()) return table.status();
  routes_.store(*table);
  // Waiting requests look again: their API may have replicas now, or be gone.
  for (const auto& api : previous->apis()) api->shared->queue.WakeAll();
  for (const auto& api : (*table)->apis()) api->shared->queue.WakeAll();
  if (!routes_file_.empty()) {
    if (Status s = WriteFileAtomic(routes_file_, contract::ToJson(routes).dump()); !s.ok()) {
      spdlog::warn("cannot save routes: {}", s.message());
    }
  }
  spdlog::info("route table updated: {} APIs, {} replicas", (*table)->apis().size(),
               (*table)->Endpoints().size());
  return OkStatus();
}

contract::GatewayStats Gateway::Stats(int64_t samples_after_unix_ms) const {
  return routes_.load()->Stats(samples_after_unix_ms);
}

void Gateway::SampleInFlight(int64_t unix_ms) const {
  auto table = routes_.load();
  for (const auto& api : table->apis()) api->shared->stats.AddSample(unix_ms, api->InFlight());
}

asio::awaitable<Response> Gateway::Handle(Request& request, http::BodyWriter* writer) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = http::TargetPath(target);
  if (path == "/_axon/healthz") co_return http::JsonResponse(200, {{"status", "ok"}});

  std::string request_id(request[kRequestIdHeader]);
  if (request_id.empty() || request_id.size() > 128) request_id = NewRequestId();
  if (IsV2Path(path)) {
    Response response = co_await HandleV2(request, request_id);
    response.set(kRequestIdHeader, request_id);
    co_return response;
  }
  auto table = routes_.load();
  const ApiRoute* api = table->Find(path);
  std::string_view replica_path = "/predict";
  if (api == nullptr && path.ends_with(kMetadataSuffix)) {  // GET /<endpoint>/metadata
    api = table->Find(path.substr(0, path.size() - kMetadataSuffix.size()));
    replica_path = kMetadataSuffix;
  }
  if (api == nullptr || api->spec.async) {  // an AsyncAPI: /<endpoint> or /<endpoint>/<id>
    std::optional<Response> answer = co_await HandleAsync(table, api, path, request, request_id);
    if (answer) co_return std::move(*answer);
  }
  if (api == nullptr) {  // /<endpoint>/<model> of an API that serves many models
    ModelPathMatch match = MatchModelPath(*table, target);
    if (match.status != 0) co_return Error(match.status, match.error, request_id);
    if (match.api != nullptr) {
      request.target(match.target);  // `target` and `path` are not used after this
      api = match.api;
    }
  }
  if (api == nullptr) {
    co_return Error(404, "no API is deployed at " + std::string(path), request_id);
  }
  if (replica_path == kMetadataSuffix && request.method() != bhttp::verb::get) {
    co_return Error(405, "use GET for " + std::string(path), request_id);
  }
  if (request.method() != bhttp::verb::post && request.method() != bhttp::verb::get) {
    co_return Error(405,
                    "method " + std::string(request.method_string()) +
                        " is not allowed; use POST (or GET if the predictor has get())",
                    request_id);
  }
  co_return co_await Dispatch(std::move(table), api, 0, request, request_id, replica_path,
                              /*prediction=*/replica_path != kMetadataSuffix, writer);
}

asio::awaitable<std::optional<Response>> Gateway::HandleAsync(
    std::shared_ptr<const RouteTable> table, const ApiRoute* api, std::string_view path,
    Request& request, const std::string& request_id) {
  std::string id;
  if (api == nullptr || api->spec.endpoint != path) {  // GET /<endpoint>/<id>
    const size_t slash = path.rfind('/');
    api =
        slash > 0 && slash != std::string_view::npos ? table->Find(path.substr(0, slash)) : nullptr;
    if (api == nullptr || !api->spec.async) co_return std::nullopt;
    id = std::string(path.substr(slash + 1));
    if (request.method() != bhttp::verb::get && !api->spec.jobs) {
      co_return Error(405,
                      "use GET to read request " + id + " of api " + api->name() +
                          "; POST new requests to " + api->spec.endpoint,
                      request_id);
    }
  } else if (request.method() != bhttp::verb::post && !api->spec.jobs) {
    co_return Error(405,
                    "api " + api->name() + " is an AsyncAPI: POST a request to " +
                        api->spec.endpoint + " (it answers {\"id\"}), then GET " +
                        api->spec.endpoint + "/<id> for its status and result",
                    request_id);
  }
  // Dispatch passes the query string on (a job's ?jobID=).
  const std::string target = std::string(kAsyncPath) + api->name() + (id.empty() ? "" : "/" + id);
  co_return co_await Dispatch(std::move(table), api, 0, request, request_id, target,
                              /*prediction=*/true);
}

asio::awaitable<Response> Gateway::Dispatch(std::shared_ptr<const RouteTable> table,
                                            const ApiRoute* api, int64_t version, Request& request,
                                            const std::string& request_id,
                                            std::string_view replica_path, bool prediction,
                                            http::BodyWriter* writer) {
  const auto start = Clock::now();
  // A TrafficSplitter counts each request in its own statistics and in those of the API it
  // goes to; a copy may go to its shadow.
  std::shared_ptr<ApiShared> splitter;
  const ApiRoute* shadow = nullptr;
  // The client's path for the request log: copied just before Forward() rewrites the target,
  // and only when the API that serves the request logs requests.
  std::string forwarded_path;
  // Counts the answer in `a`'s statistics (nullptr: the API is gone) and the splitter's.
  // `served`: the replica that answered (its version's counters), nullptr when the gateway
  // answered itself.
  auto record = [&](const ApiRoute* a, unsigned status, const ReplicaTarget* served) {
    if (!prediction) return;  // statistics count predictions only
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (splitter != nullptr) splitter->stats.Record(status, latency, nullptr);
    if (a == nullptr) return;
    a->shared->stats.Record(status, latency, served != nullptr ? served->responses : nullptr);
    if (a->request_log != nullptr) {  // the only cost of request logging when it is off
      a->request_log->Record(
          {.api = a->name(),
           .version = served != nullptr ? served->version : 0,
           .replica = served != nullptr ? served->id : std::string_view(),
           .request_id = request_id,
           .method = {request.method_string().data(), request.method_string().size()},
           .target = served != nullptr
                         ? std::string_view(forwarded_path)
                         : http::TargetPath({request.target().data(), request.target().size()}),
           .status = status,
           .latency_us = latency.count()});
    }
  };
  if (api->split) {
    const SplitChoice choice = api->ChooseSplit();
    splitter = api->shared;
    if (choice.primary == nullptr) {
      record(nullptr, 503, nullptr);
      co_return Error(
          503,
          "api " + choice.primary_name + " of traffic splitter " + api->name() + " is not deployed",
          request_id);
    }
    if (prediction) shadow = choice.shadow;
    api = choice.primary;
  }
  if (api->KeyRejected(PresentedKey(request))) {
    record(api, 401, nullptr);
    co_return Error(401,
                    "api " + api->name() +
                        " needs an API key: send it as `X-API-Key: KEY` or `Authorization: "
                        "Bearer KEY` (keys come from `axon keys create " +
                        api->name() + "`)",
                    request_id);
  }
  // The shadow gets a copy only if the key would let the request reach it directly.
  if (shadow != nullptr && shadow->KeyRejected(PresentedKey(request))) shadow = nullptr;
  if (!api->spec.api_key_hashes.empty() || api->spec.api_keys_required ||
      (shadow != nullptr &&
       (!shadow->spec.api_key_hashes.empty() || shadow->spec.api_keys_required))) {
    request.erase(kApiKeyHeader);  // the key stays at the gateway
    request.erase(bhttp::field::authorization);
  }
  if (shadow != nullptr) {
    SendShadow(table, *shadow, splitter, request, request_id, co_await asio::this_coro::executor);
  }
  // The operator's async listener takes the platform token (the API's keys stay here).
  if (api->spec.async) request.set(bhttp::field::authorization, "Bearer " + token_);
  Response error;
  ReplicaTarget* replica = nullptr;
  if (!prediction) {  // metadata never waits in the queue nor wakes an API at zero
    const ApiRoute* pinned = version == 0 ? api : table->FindVersion(*api, version);
    replica = pinned != nullptr ? pinned->AcquireReplica() : nullptr;
    if (replica == nullptr) error = Error(503, NoReplicaMessage(*api, version), request_id);
    if (pinned != nullptr) api = pinned;
  } else {
    replica = co_await Admit(table, api, version, start, request_id, error);
    if (replica != nullptr) {
      api->shared->stats.RecordQueueWait(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
    }
  }
  if (replica == nullptr) {
    LogForRequest(spdlog::level::warn, request_id,
                  fmt::format("request {}: {} {}", request_id, error.result_int(), error.body()));
    record(api, error.result_int(), nullptr);
    error.set(kRequestIdHeader, request_id);
    co_return error;
  }
  if (prediction && api->request_log != nullptr) {
    forwarded_path = http::TargetPath({request.target().data(), request.target().size()});
  }
  Response response = co_await Forward(*api, replica, ThreadUpstreams(*table), request, request_id,
                                       replica_path, writer);
  record(api, response.result_int(), replica);
  response.set(kRequestIdHeader, request_id);
  co_return response;
}

asio::awaitable<ReplicaTarget*> Gateway::Admit(std::shared_ptr<const RouteTable>& table,
                                               const ApiRoute*& api, int64_t version,
                                               Clock::time_point start,
                                               const std::string& request_id, Response& error) {
  const std::string name = api->name();
  const std::string endpoint = api->spec.endpoint;
  for (;;) {
    if (version != 0) {  // only that version's replicas; none of them ready: no wait
      const ApiRoute* pinned = table->FindVersion(*api, version);
      if (pinned == nullptr) {
        error = Error(503, NoReplicaMessage(*api, version), request_id);
        co_return nullptr;
      }
      api = pinned;
    }
    if (ReplicaTarget* replica = api->AcquireReplica()) co_return replica;
    const int64_t limit = api->QueueLimit();
    if (limit == 0) {
      error = Error(503, api->replicas.empty() ? NoReplicaMessage(*api) : FullMessage(*api),
                    request_id);
      co_return nullptr;
    }
    const bool for_start = api->replicas.empty();
    auto waiter = std::make_shared<ApiQueue::Waiter>(co_await asio::this_coro::executor);
    ReplicaTarget* acquired = nullptr;
    const auto outcome = api->shared->queue.Enqueue(waiter, limit, [&] {
      acquired = api->AcquireReplica();
      return acquired != nullptr;
    });
    if (outcome == ApiQueue::Outcome::kAcquired) co_return acquired;
    if (outcome == ApiQueue::Outcome::kFull) {
      error = Error(503, FullMessage(*api), request_id);
      co_return nullptr;
    }
    if (for_start) NoteHeld();
    const auto deadline = start + (for_start ? api->hold_timeout : api->timeout);
    // Replicas passed over after a failure may be fine after all: look again when that ends.
    waiter->timer.expires_at(
        api->AnyAvoided() ? std::min(deadline, Clock::now() + kAvoidAfterFailure) : deadline);
    http::beast::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const bool woken = !api->shared->queue.Remove(waiter);
    const std::shared_ptr<ApiShared> queue_owner = api->shared;
    table = routes_.load();
    api = table->Find(endpoint);
    if (api == nullptr || api->name() != name) {
      if (woken) queue_owner->queue.WakeOne();
      api = nullptr;
      error = Error(404, "api " + name + " was deleted while the request waited", request_id);
      co_return nullptr;
    }
    if (Clock::now() >= deadline) {
      if (woken) api->shared->queue.WakeOne();  // pass on the slot this waiter was given
      error = Error(503, WaitedMessage(*api, for_start), request_id);
      co_return nullptr;
    }
  }
}

asio::awaitable<Response> Gateway::Forward(const ApiRoute& api, ReplicaTarget*& replica,
                                           Upstreams& upstreams, Request& request,
                                           const std::string& request_id,
                                           std::string_view replica_path,
                                           http::BodyWriter* writer) {
  const std::string_view query = http::TargetQuery(request.target());
  std::string target(replica_path);
  if (!query.empty()) (target += '?') += query;
  request.target(target);
  StripHopByHop(request);
  request.set(kRequestIdHeader, request_id);
  request.keep_alive(true);
  request.prepare_payload();
  std::optional<ToClient> to_client;
  if (writer != nullptr) to_client.emplace(*writer, request_id);
  http::BodyWriter* relay = to_client ? &*to_client : nullptr;
  for (int attempt = 0;; ++attempt) {
    // (No co_await inside ?: here: g++ 12 destroys the temporaries of such an expression twice.)
    http::UpstreamResult result;
    if (replica->local_endpoint) {
      result = co_await upstreams.local.Send(*replica->local_endpoint, request, api.timeout, relay);
    } else {
      result = co_await upstreams.tcp.Send(replica->endpoint, request, api.timeout, relay);
    }
    api.Release(replica);
    if (result.streamed) {  // passed on to the client already; a broken stream is only logged
      if (result.error && result.error != asio::error::connection_aborted) {
        LogForRequest(spdlog::level::warn, request_id,
                      fmt::format("request {}: the streamed answer of replica {} of api {} "
                                  "ended early: {}",
                                  request_id, replica->id, api.name(), result.error.message()));
      }
      co_return std::move(result.response);
    }
    if (result.error && result.error != http::beast::error::timeout) {
      replica->Avoid(kAvoidAfterFailure);  // until the operator's next route table says more
    }
    if (!result.error) {
      StripHopByHop(result.response);
      co_return std::move(result.response);
    }
    // Only a request that certainly never reached the replica may go to another one.
    ReplicaTarget* other =
        result.maybe_delivered || attempt > 0 ? nullptr : api.AcquireReplica(replica);
    if (other == nullptr && api.spec.async) {
      LogForRequest(spdlog::level::warn, request_id,
                    fmt::format("request {}: the async listener of api {} failed: {}", request_id,
                                api.name(), result.error.message()));
      co_return Error(503,
                      "api " + api.name() +
                          " cannot take or read requests now: its queue is kept by the "
                          "operator, which is not answering (restarting?); retry later",
                      request_id);
    }
    if (other == nullptr) {
      const bool timed_out = result.error == http::beast::error::timeout;
      const std::string why = timed_out ? "api " + api.name() + " did not answer within " +
                                              std::to_string(api.timeout.count()) + " ms"
                                        : "replica " + replica->id + " of api " + api.name() +
                                              " failed before answering: " + result.error.message();
      LogForRequest(spdlog::level::warn, request_id,
                    fmt::format("request {}: {}", request_id, why));
      co_return Error(timed_out ? 504 : 502, why, request_id);
    }
    replica = other;
  }
}

void Gateway::NoteHeld() {
  held_count_.fetch_add(1, std::memory_order_seq_cst);
  held_watchers_.WakeAll();
}

asio::awaitable<Response> Gateway::WaitForHeld(int64_t after, std::chrono::milliseconds wait) {
  constexpr int64_t kMaxWatchers = 16;  // the operator needs one
  auto count = [this] { return held_count_.load(std::memory_order_seq_cst); };
  if (count() > after || wait.count() == 0) co_return http::JsonResponse(200, {{"held", count()}});
  auto waiter = std::make_shared<ApiQueue::Waiter>(co_await asio::this_coro::executor);
  // The check runs under the queue's lock, which NoteHeld() takes after counting: either it
  // sees the new count or NoteHeld() sees the waiter.
  const auto outcome =
      held_watchers_.Enqueue(waiter, kMaxWatchers, [&] { return count() > after; });
  if (outcome == ApiQueue::Outcome::kFull) {
    co_return http::JsonError(503, "too many requests wait on /_axon/held");
  }
  if (outcome == ApiQueue::Outcome::kQueued) {
    waiter->timer.expires_after(wait);
    http::beast::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    held_watchers_.Remove(waiter);
  }
  co_return http::JsonResponse(200, {{"held", count()}});
}

asio::awaitable<Response> Gateway::HandleAdmin(Request& request) {
  const std::string_view path = http::TargetPath(request.target());
  if (path == "/_axon/healthz") co_return http::JsonResponse(200, {{"status", "ok"}});
  if (!http::SecretsEqual(http::BearerToken(request), token_)) {
    co_return http::JsonError(401, "missing or wrong bearer token");
  }
  if (path == "/_axon/stats" && request.method() == bhttp::verb::get) {
    int64_t after = 0;
    for (const auto& [k, v] : http::ParseQuery(http::TargetQuery(request.target()))) {
      if (k == "after") after = std::atoll(v.c_str());
    }
    co_return http::JsonResponse(200, contract::ToJson(Stats(after)));
  }
  if (path == "/_axon/metrics" && request.method() == bhttp::verb::get) {
    co_return http::TextResponse(200, routes_.load()->Metrics(), kExpositionContentType);
  }
  if (path == "/_axon/held" && request.method() == bhttp::verb::get) {
    int64_t after = -1;
    int64_t wait_ms = 0;
    for (const auto& [k, v] : http::ParseQuery(http::TargetQuery(request.target()))) {
      if (k == "after") after = std::atoll(v.c_str());
      if (k == "wait_ms")
        wait_ms = std::clamp<int64_t>(std::atoll(v.c_str()), 0, kMaxHeldWait.count());
    }
    co_return co_await WaitForHeld(after, std::chrono::milliseconds(wait_ms));
  }
  if (path == "/_axon/routes" && request.method() == bhttp::verb::put) {
    const auto json = nlohmann::json::parse(request.body(), nullptr, false);
    if (json.is_discarded()) co_return http::JsonError(400, "route table is not valid JSON");
    auto routes = contract::RouteTableFromJson(json);
    Status s = routes.ok() ? SetRoutes(*routes) : routes.status();
    co_return s.ok() ? http::JsonResponse(200, {{"status", "ok"}}) : http::ErrorResponse(s);
  }
  co_return http::JsonError(404, "no admin endpoint " + std::string(path));
}

}  // namespace axon::gateway
