// The operator's management API, used by the axon CLI and the web dashboard. Every path but
// /healthz, the dashboard's sign-in and its files needs the platform token as a bearer token,
// or (GET only) the dashboard's session cookie (operator/dashboard.h); 401 otherwise.
//
//   GET    /healthz                      liveness and identity (no token): {"status",
//                                        "axon_home", "pid"}, so `axon up` can tell whose
//                                        operator holds a port
//   GET    /v1/info                      version and addresses
//   GET    /metrics                      the platform's Prometheus metrics: the operator's,
//                                        the gateway's and every replica's in one scrape
//   POST   /v1/deploy                    {"file": path, "yaml": text} -> per-API results
//   GET    /v1/apis                      every API with status and statistics
//   GET    /v1/apis/NAME                 one API with its replicas
//   DELETE /v1/apis/NAME
//   POST   /v1/apis/NAME/refresh         replace every replica
//   POST   /v1/apis/NAME/rollback?version=N   redeploy version N (default: the previous one)
//   GET    /v1/apis/NAME/logs?offset=N   log text from byte N (or ?tail=N lines); &job=ID: a
//                                        BatchAPI's or TaskAPI's job's workers
//   GET    /v1/apis/NAME/jobs            its jobs, newest first: {"jobs": [...]}
//   GET    /v1/apis/NAME/jobs/ID         one job, with its workers (JobRunner::Json)
//   GET    /v1/apis/NAME/versions        the kept versions, newest first
//   GET    /v1/apis/NAME/history         the last hour, sampled, for the dashboard's charts
//   GET    /v1/apis/NAME/keys            the API's keys (ids and dates)
//   POST   /v1/apis/NAME/keys            a new key, shown once: {"id", "key"}
//   DELETE /v1/apis/NAME/keys/ID         revoke a key
//   POST   /v1/shutdown                  stop the platform (see operator main)
//   GET    /v1/bundles/HASH[/files/PATH] a bundle, for replicas in pods; takes the bundle's
//                                        key instead of the token (contract/bundles.h)
//   GET    / and /apis/NAME              the dashboard (the login form without a session)
//   GET    /login?token=T, POST /login   sign in: a session cookie, then the dashboard
//   GET    /logout, /dashboard/FILE      sign out; the dashboard's scripts and styles
//
// Threading: Handle() runs on the server's I/O thread. /healthz is answered there at once;
// everything else runs on the API's own worker threads (`workers` of them), so a deploy that
// copies a large model never holds up health checks or other calls.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/beast.h"
#include "operator/bundles.h"
#include "operator/controller.h"
#include "operator/job_runner.h"

namespace axon::operator_ {

class ManagementApi {
 public:
  // `bundles` and `jobs` (may be null: not served) must outlive the API.
  // `uploads`: where deploys that carry their files (uploads.h) are unpacked; "" refuses them.
  ManagementApi(Controller& controller, std::string token, nlohmann::json info,
                std::function<void()> request_shutdown, const BundleStore* bundles = nullptr,
                int workers = 4, std::filesystem::path uploads = {}, JobRunner* jobs = nullptr);
  ~ManagementApi();

  http::asio::awaitable<http::Response> Handle(http::Request& request);

 private:
  // Who sent a request: the token (may call anything), a dashboard session (GET only), or
  // neither. The one place that checks the management API's credentials.
  enum class Caller { kNobody, kSession, kToken };
  Caller Identify(const http::Request& request) const;

  http::Response Route(http::Request& request);
  http::Response DeployUpload(const nlohmann::json& body);
  http::Response ApiRoute(http::Request& request, const std::string& name,
                          const std::string& action);
  // GET /v1/apis/NAME/jobs[/ID]; `id` "" lists them.
  http::Response JobsRoute(const std::string& name, const std::string& id);

  Controller& controller_;
  const std::string token_;
  const nlohmann::json info_;
  const std::function<void()> request_shutdown_;
  const BundleStore* const bundles_;
  const std::filesystem::path uploads_;
  JobRunner* const jobs_;
  http::asio::thread_pool workers_;
};

}  // namespace axon::operator_
