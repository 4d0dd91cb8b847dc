#include "operator/job_requests.h"

#include <spdlog/spdlog.h>

#include "http/responses.h"
#include "http/url.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;

constexpr int64_t kListedOverHttp = 100;

http::Response NoSuchJob(const std::string& api, const std::string& id) {
  return http::JsonError(
      404, "api " + api + " has no job " + id + " (axon get " + api + " lists its jobs)");
}

}  // namespace

http::Response HandleJobRequest(JobRunner& jobs, const ApiTarget& api, const http::Request& request,
                                std::string id) {
  const std::string& name = api.api;
  for (const auto& [key, value] : http::ParseQuery(http::TargetQuery(request.target()))) {
    if (key == "jobID" && id.empty()) id = value;
  }
  const auto method = request.method();
  if (method == bhttp::verb::post) {
    if (!id.empty()) {
      return http::JsonError(405, "POST a new job to the endpoint of api " + name +
                                      " itself; GET or DELETE a job with ?jobID=");
    }
    auto job = jobs.Submit(api, request.body());
    if (!job.ok()) {
      if (job.status().code() == StatusCode::kInvalidArgument) {
        return http::JsonError(400, "a job of api " + name + ": " + job.status().message());
      }
      spdlog::error("api {}: cannot submit a job: {}", name, job.status().message());
      return http::JsonError(503, "api " + name + " cannot take a job now; retry later");
    }
    return http::JsonResponse(200, jobs.Json(*job, false));
  }
  if (method != bhttp::verb::get && method != bhttp::verb::delete_) {
    return http::JsonError(405, "api " + name + " is " + spec::KindWithArticle(api.spec.kind) +
                                    ": POST a job, GET its status with ?jobID=, DELETE it to "
                                    "stop it");
  }
  if (id.empty()) {
    if (method == bhttp::verb::delete_) {
      return http::JsonError(400, "which job? DELETE ?jobID=ID (GET lists the jobs)");
    }
    auto listed = jobs.List(name);
    if (!listed.ok()) return http::JsonError(503, "api " + name + " cannot read its jobs now");
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < listed->size() && static_cast<int64_t>(i) < kListedOverHttp; ++i) {
      out.push_back(jobs.Json((*listed)[i], false));
    }
    return http::JsonResponse(200, {{"jobs", std::move(out)}});
  }
  if (!LooksLikeJobId(id)) return NoSuchJob(name, id);
  if (method == bhttp::verb::get) {
    auto job = jobs.Get(name, id);
    if (job.status().code() == StatusCode::kNotFound) return NoSuchJob(name, id);
    if (!job.ok()) return http::JsonError(503, "api " + name + " cannot read its jobs now");
    return http::JsonResponse(200, jobs.Json(*job, false));
  }
  auto before = jobs.Get(name, id);
  if (before.status().code() == StatusCode::kNotFound) return NoSuchJob(name, id);
  auto job = jobs.Stop(name, id);
  if (!job.ok()) return http::JsonError(503, "api " + name + " cannot stop the job now; retry");
  const std::string status(store::JobStatusName(job->status));
  if (before.ok() && store::JobEnded(before->status)) {
    return http::JsonResponse(
        200, {{"message", "job " + id + " had already ended (" +
                              std::string(store::JobStatusText(before->status)) + ")"},
              {"status", status}});
  }
  return http::JsonResponse(200, {{"message", "stopped job " + id}, {"status", status}});
}

}  // namespace axon::operator_
