#include "gateway/gateway.h"

#include <random>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "gateway/v2_path.h"
#include "http/responses.h"
#include "http/upstream_pool.h"
#include "http/url.h"

namespace axon::gateway {
namespace {

namespace bhttp = http::bhttp;
using http::Request;
using http::Response;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kRequestIdHeader = "X-Request-ID";
constexpr std::string_view kMetadataSuffix = "/metadata";

// Headers that describe one connection, not the message, and must not be forwarded.
void StripHopByHop(bhttp::fields& fields) {
  for (auto f :
       {bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_authenticate,
        bhttp::field::proxy_authorization, bhttp::field::te, bhttp::field::trailer,
        bhttp::field::transfer_encoding, bhttp::field::upgrade}) {
    fields.erase(f);
  }
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

namespace {

Response WithRequestId(Response response, std::string_view request_id) {
  response.set(kRequestIdHeader, request_id);
  return response;
}

}  // namespace

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
  routes_.store(*RouteTable::FromJson({{"apis", nlohmann::json::array()}}, nullptr));
  if (routes_file_.empty()) return;
  if (auto saved = ReadFile(routes_file_); saved.ok()) {
    const auto json = nlohmann::json::parse(*saved, nullptr, false);
    if (Status s = SetRoutes(json); !s.ok()) {
      spdlog::warn("ignoring saved routes in {}: {}", routes_file_.string(), s.message());
    }
  }
}

Status Gateway::SetRoutes(const nlohmann::json& json) {
  auto previous = routes_.load();
  auto table = RouteTable::FromJson(json, previous.get());
  if (!table.ok()) return table.status();
  routes_.store(*table);
  if (!routes_file_.empty()) {
    if (Status s = WriteFileAtomic(routes_file_, json.dump()); !s.ok()) {
      spdlog::warn("cannot save routes: {}", s.message());
    }
  }
  spdlog::info("route table updated: {} APIs, {} replicas", (*table)->apis().size(),
               (*table)->Endpoints().size());
  return OkStatus();
}

nlohmann::json Gateway::Stats(int64_t samples_after_unix_ms) const {
  auto table = routes_.load();
  nlohmann::json apis = nlohmann::json::object();
  for (const auto& api : table->apis()) {
    auto entry = api->stats->ToJson();
    entry["in_flight"] = api->InFlight();
    entry["in_flight_samples"] = api->stats->SamplesAfter(samples_after_unix_ms);
    apis[api->name] = std::move(entry);
  }
  return {{"apis", std::move(apis)}};
}

void Gateway::SampleInFlight(int64_t unix_ms) const {
  auto table = routes_.load();
  for (const auto& api : table->apis()) api->stats->AddSample(unix_ms, api->InFlight());
}

http::asio::awaitable<Response> Gateway::Handle(Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = http::TargetPath(target);
  if (path.starts_with("/_axon/")) co_return co_await HandleAdmin(request);

  std::string request_id(request[kRequestIdHeader]);
  if (request_id.empty()) request_id = NewRequestId();
  if (IsV2Path(path)) {
    Response response = co_await HandleV2(request, request_id);
    co_return WithRequestId(std::move(response), request_id);
  }
  auto table = routes_.load();
  const ApiRoute* api = table->Find(path);
  std::string_view replica_path = "/predict";
  if (api == nullptr && path.ends_with(kMetadataSuffix)) {  // GET /<endpoint>/metadata
    api = table->Find(path.substr(0, path.size() - kMetadataSuffix.size()));
    replica_path = kMetadataSuffix;
  }
  if (api == nullptr) {
    co_return WithRequestId(http::JsonError(404, "no API is deployed at " + std::string(path)),
                            request_id);
  }
  if (replica_path == kMetadataSuffix && request.method() != bhttp::verb::get) {
    co_return WithRequestId(http::JsonError(405, "use GET for " + std::string(path)), request_id);
  }
  if (request.method() != bhttp::verb::post && request.method() != bhttp::verb::get) {
    co_return WithRequestId(
        http::JsonError(405, "method " + std::string(request.method_string()) +
                                 " is not allowed; use POST (or GET if the predictor has get())"),
        request_id);
  }
  const bool is_metadata = replica_path == kMetadataSuffix;  // metadata never wakes an API
  Response response =
      co_await Dispatch(table, api, 0, request, request_id, replica_path, !is_metadata);
  co_return WithRequestId(std::move(response), request_id);
}

http::asio::awaitable<Response> Gateway::Dispatch(std::shared_ptr<const RouteTable> table,
                                                  const ApiRoute* api, int64_t version,
                                                  Request& request, const std::string& request_id,
                                                  std::string_view replica_path, bool prediction) {
  const auto start = Clock::now();
  if (api->replicas.empty() && api->scale_to_zero && prediction) {
    const auto before = table;  // keeps `held` alive while the table changes
    const ApiRoute& held = *api;
    if (!co_await HoldForReplica(held.endpoint, table)) {
      const std::string why = "api " + held.name + " has no ready replica after waiting " +
                              std::to_string(held.hold_timeout.count()) +
                              " ms for one to start (or too many requests are waiting)";
      spdlog::warn("request {}: 503 {}", request_id, why);
      held.stats->Record(
          503, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
      co_return http::JsonError(503, why);
    }
    api = table->Find(held.endpoint);
  }
  const ApiRoute* target = version == 0 ? api : table->FindVersion(*api, version);
  Response response;  // (no co_await inside ?:, see Forward)
  if (target != nullptr) {
    response =
        co_await Forward(*target, ThreadUpstreams(*table), request, request_id, replica_path);
  } else {
    response = http::JsonError(503, "api " + api->name + " has no ready replica of version " +
                                        std::to_string(version) + " (status: " + api->status + ")");
  }
  if (prediction) {  // statistics count predictions only
    api->stats->Record(response.result_int(),
                       std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
  }
  co_return response;
}

http::asio::awaitable<bool> Gateway::HoldForReplica(std::string_view path,
                                                    std::shared_ptr<const RouteTable>& table) {
  constexpr auto kPoll = std::chrono::milliseconds(5);
  const ApiRoute* api = table->Find(path);
  const auto stats = api->stats;  // shared by every table that has this API
  if (stats->held.fetch_add(1) >= api->max_held) {
    stats->held.fetch_sub(1);
    co_return false;
  }
  const auto deadline = Clock::now() + api->hold_timeout;
  http::asio::steady_timer timer(co_await http::asio::this_coro::executor);
  bool ready = false;
  while (!ready && Clock::now() < deadline) {
    timer.expires_after(kPoll);
    http::beast::error_code ec;
    co_await timer.async_wait(http::asio::redirect_error(http::asio::use_awaitable, ec));
    table = routes_.load();
    api = table->Find(path);
    if (api == nullptr) break;  // the API was deleted meanwhile
    ready = !api->replicas.empty();
  }
  stats->held.fetch_sub(1);
  co_return ready;
}

http::asio::awaitable<Response> Gateway::Forward(const ApiRoute& api, Upstreams& upstreams,
                                                 Request& request, const std::string& request_id,
                                                 std::string_view replica_path) {
  ReplicaTarget* replica = api.AcquireReplica();  // counted in flight from here on
  if (replica == nullptr) {
    const std::string why =
        api.replicas.empty()
            ? "api " + api.name + " has no ready replica (status: " + api.status + ")"
            : "api " + api.name + " is at max_replica_concurrency (" +
                  std::to_string(api.max_replica_concurrency) + " per replica); retry later";
    spdlog::warn("request {}: 503 {}", request_id, why);
    co_return http::JsonError(503, why);
  }
  const std::string_view query = http::TargetQuery(request.target());
  std::string target(replica_path);
  if (!query.empty()) (target += '?') += query;
  request.target(target);
  StripHopByHop(request);
  request.set(kRequestIdHeader, request_id);
  request.keep_alive(true);
  request.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    // (No co_await inside ?: here: g++ 12 destroys the temporaries of such an expression twice.)
    http::UpstreamResult result;
    if (replica->local_endpoint) {
      result = co_await upstreams.local.Send(*replica->local_endpoint, request, api.timeout);
    } else {
      result = co_await upstreams.tcp.Send(replica->endpoint, request, api.timeout);
    }
    replica->in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!result.error) {
      StripHopByHop(result.response);
      co_return std::move(result.response);
    }
    // Only a request that certainly never reached the replica may go to another one.
    ReplicaTarget* other =
        result.maybe_delivered || attempt > 0 ? nullptr : api.AcquireReplica(replica);
    if (other == nullptr) {
      const bool timed_out = result.error == http::beast::error::timeout;
      const std::string why = timed_out ? "api " + api.name + " did not answer within " +
                                              std::to_string(api.timeout.count()) + " ms"
                                        : "replica " + replica->id + " of api " + api.name +
                                              " failed before answering: " + result.error.message();
      spdlog::warn("request {}: {}", request_id, why);
      co_return http::JsonError(timed_out ? 504 : 502, why);
    }
    replica = other;
  }
}

http::asio::awaitable<Response> Gateway::HandleAdmin(Request& request) {
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
    co_return http::JsonResponse(200, Stats(after));
  }
  if (path == "/_axon/routes" && request.method() == bhttp::verb::put) {
    const auto json = nlohmann::json::parse(request.body(), nullptr, false);
    if (json.is_discarded()) co_return http::JsonError(400, "route table is not valid JSON");
    Status s = SetRoutes(json);
    co_return s.ok() ? http::JsonResponse(200, {{"status", "ok"}}) : http::ErrorResponse(s);
  }
  co_return http::JsonError(404, "no admin endpoint " + std::string(path));
}

}  // namespace axon::gateway
