#include "operator/management_api.h"

#include "common/exposition.h"
#include "contract/bundles.h"
#include "http/responses.h"
#include "http/run_on.h"
#include "http/url.h"
#include "operator/bundle_server.h"
#include "operator/dashboard.h"
#include "operator/uploads.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;
using http::Response;

Response FromStatusOr(const StatusOr<nlohmann::json>& result) {
  return result.ok() ? http::JsonResponse(200, *result) : http::ErrorResponse(result.status());
}

Response FromStatus(const Status& status) {
  return status.ok() ? http::JsonResponse(200, {{"status", "ok"}}) : http::ErrorResponse(status);
}

int64_t QueryInt(std::string_view query, std::string_view key, int64_t fallback) {
  for (const auto& [k, v] : http::ParseQuery(query)) {
    if (k == key) {
      try {
        return std::stoll(v);
      } catch (const std::exception&) {
        return fallback;
      }
    }
  }
  return fallback;
}

}  // namespace

ManagementApi::ManagementApi(Controller& controller, std::string token, nlohmann::json info,
                             std::function<void()> request_shutdown, const BundleStore* bundles,
                             int workers, std::filesystem::path uploads, JobRunner* jobs)
    : controller_(controller),
      token_(std::move(token)),
      info_(std::move(info)),
      request_shutdown_(std::move(request_shutdown)),
      bundles_(bundles),
      uploads_(std::move(uploads)),
      jobs_(jobs),
      workers_(static_cast<size_t>(workers)) {}

ManagementApi::~ManagementApi() { workers_.join(); }

http::asio::awaitable<Response> ManagementApi::Handle(http::Request& request) {
  if (http::TargetPath(request.target()) == "/healthz") {
    co_return http::JsonResponse(200, {{"status", "ok"},
                                       {"axon_home", info_.value("axon_home", "")},
                                       {"pid", info_.value("pid", 0)}});
  }
  co_return co_await http::RunOn<Response>(workers_, [this, &request] { return Route(request); });
}

ManagementApi::Caller ManagementApi::Identify(const http::Request& request) const {
  if (http::SecretsEqual(http::BearerToken(request), token_)) return Caller::kToken;
  if (HasSession(request, token_)) return Caller::kSession;
  return Caller::kNobody;
}

Response ManagementApi::Route(http::Request& request) {
  const std::string path(http::TargetPath(request.target()));
  const auto method = request.method();
  const std::string_view bundles_prefix = contract::kBundlesPath;
  if (bundles_ != nullptr && path.starts_with(bundles_prefix)) {
    return ServeBundle(*bundles_, token_, request,
                       std::string_view(path).substr(bundles_prefix.size()));
  }
  const Caller caller = Identify(request);
  if (IsDashboardPath(path)) return DashboardRoute(request, token_, caller != Caller::kNobody);
  if (caller == Caller::kNobody) {
    return http::JsonError(401, "missing or wrong token; the CLI reads it from $AXON_HOME/token");
  }
  if (caller == Caller::kSession && method != bhttp::verb::get) {
    return http::JsonError(403, "a dashboard session only reads; " +
                                    std::string(request.method_string()) + " " + path +
                                    " needs the token (the CLI reads it from $AXON_HOME/token)");
  }
  if (path == "/v1/info" && method == bhttp::verb::get) return http::JsonResponse(200, info_);
  if (path == "/metrics" && method == bhttp::verb::get) {
    return http::TextResponse(200, controller_.Metrics(), kExpositionContentType);
  }
  if (path == "/v1/apis" && method == bhttp::verb::get) {
    return http::JsonResponse(200, controller_.List());
  }
  if (path == "/v1/deploy" && method == bhttp::verb::post) {
    const auto body = nlohmann::json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("yaml") || !body["yaml"].is_string() ||
        !body.contains("file") || !body["file"].is_string()) {
      return http::JsonError(400, "deploy needs a JSON body {\"file\": path, \"yaml\": text}");
    }
    if (body.contains("files")) return DeployUpload(body);
    return FromStatusOr(controller_.Deploy(body["file"], body["yaml"]));
  }
  if (path == "/v1/shutdown" && method == bhttp::verb::post) {
    request_shutdown_();
    return http::JsonResponse(200, {{"status", "stopping"}});
  }
  constexpr std::string_view kApis = "/v1/apis/";
  if (path.starts_with(kApis)) {
    const std::string rest = path.substr(kApis.size());
    const auto slash = rest.find('/');
    return ApiRoute(request, rest.substr(0, slash),
                    slash == std::string::npos ? "" : rest.substr(slash + 1));
  }
  return http::JsonError(
      404, "no management endpoint " + std::string(request.method_string()) + " " + path);
}

// A deploy that carries its spec file's folder: unpacked into a folder of its own for the
// deploy, which copies what it needs into bundles; errors name the client's paths, not ours.
Response ManagementApi::DeployUpload(const nlohmann::json& body) {
  if (uploads_.empty()) return http::JsonError(400, "this operator reads deploys from its disk");
  auto dir = WriteUpload(uploads_, body["files"]);
  if (!dir.ok()) return http::ErrorResponse(dir.status());
  const std::filesystem::path client_file(body["file"].get<std::string>());
  const auto result = controller_.Deploy((*dir / client_file.filename()).string(), body["yaml"]);
  std::error_code ec;
  std::filesystem::remove_all(*dir, ec);
  if (result.ok()) return http::JsonResponse(200, *result);
  std::string message = result.status().message();
  const std::string ours = dir->string(), theirs = client_file.parent_path().string();
  for (size_t pos = message.find(ours); pos != std::string::npos; pos = message.find(ours, pos)) {
    message.replace(pos, ours.size(), theirs);
    pos += theirs.size();
  }
  return http::ErrorResponse(Status(result.status().code(), message));
}

Response ManagementApi::ApiRoute(http::Request& request, const std::string& name,
                                 const std::string& action) {
  const auto method = request.method();
  if (action.empty() && method == bhttp::verb::get) {
    auto described = controller_.Describe(name);
    if (described.ok() && jobs_ != nullptr && controller_.JobApi(name)) {
      constexpr size_t kRecentJobs = 10;
      nlohmann::json recent = nlohmann::json::array();
      if (auto listed = jobs_->List(name); listed.ok()) {
        for (size_t i = 0; i < listed->size() && i < kRecentJobs; ++i) {
          recent.push_back(jobs_->Json((*listed)[i], false));
        }
      }
      (*described)["jobs"] = std::move(recent);
    }
    return FromStatusOr(described);
  }
  if (action.empty() && method == bhttp::verb::delete_) {
    const bool runs_jobs = controller_.JobApi(name).has_value();
    Status deleted = controller_.Delete(name);
    if (deleted.ok() && runs_jobs && jobs_ != nullptr) jobs_->DropApi(name);
    return FromStatus(deleted);
  }
  if ((action == "jobs" || action.starts_with("jobs/")) && method == bhttp::verb::get) {
    return JobsRoute(name, action == "jobs" ? "" : action.substr(5));
  }
  if (action == "refresh" && method == bhttp::verb::post) {
    return FromStatus(controller_.Refresh(name));
  }
  if (action == "rollback" && method == bhttp::verb::post) {
    return FromStatusOr(
        controller_.Rollback(name, QueryInt(http::TargetQuery(request.target()), "version", 0)));
  }
  if (action == "keys" && method == bhttp::verb::get)
    return FromStatusOr(controller_.ListKeys(name));
  if (action == "keys" && method == bhttp::verb::post) {
    return FromStatusOr(controller_.CreateKey(name));
  }
  if (action.starts_with("keys/") && method == bhttp::verb::delete_) {
    return FromStatus(controller_.RevokeKey(name, action.substr(5)));
  }
  if (action == "versions" && method == bhttp::verb::get) {
    return FromStatusOr(controller_.Versions(name));
  }
  if (action == "history" && method == bhttp::verb::get) {
    return FromStatusOr(controller_.History(name));
  }
  if (action == "logs" && method == bhttp::verb::get) {
    const LogQuery logs = ParseLogQuery(http::TargetQuery(request.target()));
    return FromStatusOr(controller_.Logs(name, logs));
  }
  return http::JsonError(404, "no management endpoint " + std::string(request.method_string()) +
                                  " " + std::string(request.target()));
}

Response ManagementApi::JobsRoute(const std::string& name, const std::string& id) {
  if (!controller_.JobApi(name) || jobs_ == nullptr) {
    auto described = controller_.Describe(name);
    if (!described.ok()) return http::ErrorResponse(described.status());
    return http::JsonError(400, "api " + name + " is " +
                                    spec::KindWithArticle((*described)["kind"].get<std::string>()) +
                                    " and runs no jobs");
  }
  if (id.empty()) {
    auto listed = jobs_->List(name);
    if (!listed.ok()) return http::ErrorResponse(listed.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& job : *listed) out.push_back(jobs_->Json(job, false));
    return http::JsonResponse(200, {{"jobs", std::move(out)}});
  }
  auto job = LooksLikeJobId(id)
                 ? jobs_->Get(name, id)
                 : StatusOr<store::Job>(NotFound("api " + name + " has no job " + id));
  if (!job.ok()) return http::ErrorResponse(job.status());
  return http::JsonResponse(200, jobs_->Json(*job, true));
}

}  // namespace axon::operator_
