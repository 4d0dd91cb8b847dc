// The operator's management API, used by the axon CLI. Every path but /healthz needs the
// platform token as a bearer token (401 otherwise).
//
//   GET    /healthz                      liveness (no token)
//   GET    /v1/info                      version and addresses
//   POST   /v1/deploy                    {"file": path, "yaml": text} -> per-API results
//   GET    /v1/apis                      every API with status and statistics
//   GET    /v1/apis/NAME                 one API with its replicas
//   DELETE /v1/apis/NAME
//   POST   /v1/apis/NAME/refresh         replace every replica
//   POST   /v1/apis/NAME/rollback?version=N   redeploy version N (default: the previous one)
//   GET    /v1/apis/NAME/logs?offset=N   log text from byte N (or ?tail=N lines)
//   POST   /v1/shutdown                  stop the platform (see operator main)
//
// Threading: Handle() runs on the server's I/O thread and may block briefly on the
// controller.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/beast.h"
#include "operator/controller.h"

namespace axon::operator_ {

class ManagementApi {
 public:
  ManagementApi(Controller& controller, std::string token, nlohmann::json info,
                std::function<void()> request_shutdown)
      : controller_(controller),
        token_(std::move(token)),
        info_(std::move(info)),
        request_shutdown_(std::move(request_shutdown)) {}

  http::asio::awaitable<http::Response> Handle(http::Request& request);

 private:
  http::Response Route(http::Request& request);
  http::Response ApiRoute(http::Request& request, const std::string& name,
                          const std::string& action);

  Controller& controller_;
  const std::string token_;
  const nlohmann::json info_;
  const std::function<void()> request_shutdown_;
};

}  // namespace axon::operator_
