#include "operator/async_requests.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/files.h"
#include "common/log_line.h"
#include "http/responses.h"
#include "http/run_on.h"
#include "operator/job_requests.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;

// A request id as the listener makes them: 32 hex digits.
bool LooksLikeId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsJsonType(std::string_view content_type) {
  return content_type.starts_with("application/json") ||
         content_type.find("+json") != std::string_view::npos;
}

}  // namespace

AsyncRequests::AsyncRequests(const Controller& controller, store::WorkQueue& queue,
                             std::string token, std::function<void()> on_submit, int workers,
                             JobRunner* jobs)
    : controller_(controller),
      queue_(queue),
      token_(std::move(token)),
      on_submit_(std::move(on_submit)),
      jobs_(jobs),
      workers_(workers) {}

AsyncRequests::~AsyncRequests() { workers_.join(); }

nlohmann::json AsyncRequests::StatusJson(const store::Item& item) {
  nlohmann::json out = {{"id", item.id},
                        {"status", store::ItemStatusName(item.status)},
                        {"timestamp", FormatLogTime(item.updated_ms)}};
  if (item.status == store::ItemStatus::kCompleted) {
    nlohmann::json result = nlohmann::json::value_t::discarded;
    if (IsJsonType(item.result_type)) result = nlohmann::json::parse(item.result, nullptr, false);
    // A result that is not JSON is given as text (bytes that are not UTF-8 become U+FFFD).
    out["result"] = result.is_discarded() ? nlohmann::json(item.result) : std::move(result);
  }
  if (item.status == store::ItemStatus::kFailed) out["error"] = item.error;
  return out;
}

http::asio::awaitable<http::Response> AsyncRequests::Handle(http::Request& request) {
  if (!http::SecretsEqual(http::BearerToken(request), token_)) {
    co_return http::JsonError(401, "missing or wrong bearer token");
  }
  co_return co_await http::RunOn<http::Response>(workers_,
                                                 [this, &request] { return Route(request); });
}

http::Response AsyncRequests::Route(const http::Request& request) {
  const std::string_view path = http::TargetPath(request.target());
  if (!path.starts_with(kAsyncPathPrefix)) {
    return http::JsonError(404, "no async endpoint " + std::string(path));
  }
  const std::string_view rest = path.substr(kAsyncPathPrefix.size());
  const size_t slash = rest.find('/');
  const std::string name(rest.substr(0, slash));
  if (std::optional<ApiTarget> job_api = controller_.JobApi(name)) {
    if (jobs_ == nullptr) {
      return http::JsonError(501, "api " + name + " is " +
                                      spec::KindWithArticle(job_api->spec.kind) +
                                      ": its jobs run in local mode only, not on Kubernetes yet");
    }
    return HandleJobRequest(
        *jobs_, *job_api, request,
        slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1)));
  }
  const std::optional<AsyncApiView> api = controller_.AsyncApi(name);
  if (!api) return http::JsonError(404, "no AsyncAPI named " + name + " is deployed");
  if (slash == std::string_view::npos) {
    if (request.method() != bhttp::verb::post) {
      return http::JsonError(
          405, "POST a request to api " + name + "; GET its status at " + "<endpoint>/<id>");
    }
    return Submit(*api, request);
  }
  if (request.method() != bhttp::verb::get) {
    return http::JsonError(405, "use GET to read the status of a request of api " + name);
  }
  return Read(*api, std::string(rest.substr(slash + 1)));
}

http::Response AsyncRequests::Submit(const AsyncApiView& api, const http::Request& request) {
  store::NewItem item{.queue = api.name,
                      .id = RandomHex(16),
                      .payload = request.body(),
                      .content_type = std::string(request[bhttp::field::content_type]),
                      .max_attempts = api.queue.max_attempts,
                      .retention_ms = api.queue.result_retention.count()};
  if (Status s = queue_.Enqueue(item, UnixNowMs()); !s.ok()) {
    spdlog::error("api {}: cannot store a request: {}", api.name, s.message());
    return http::JsonError(503, "api " + api.name +
                                    " cannot store the request now (its queue is unwritable); "
                                    "retry later");
  }
  if (on_submit_) on_submit_();
  return http::JsonResponse(200, {{"id", item.id}});
}

http::Response AsyncRequests::Read(const AsyncApiView& api, const std::string& id) {
  const auto not_found = [&] {
    return http::JsonError(404, "api " + api.name + " has no request " + id +
                                    " (results are kept for " +
                                    std::to_string(api.queue.result_retention.count() / 1000) +
                                    " s after they finish)");
  };
  if (!LooksLikeId(id)) return not_found();
  auto item = queue_.Get(api.name, id);
  if (item.status().code() == StatusCode::kNotFound) return not_found();
  if (!item.ok()) {
    spdlog::error("api {}: cannot read request {}: {}", api.name, id, item.status().message());
    return http::JsonError(503, "api " + api.name + " cannot read its queue now; retry later");
  }
  return http::JsonResponse(200, StatusJson(*item));
}

}  // namespace axon::operator_
