// Building HTTP responses the same way everywhere. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/beast.h"

namespace axon::http {

// {"error": message} with the given status code.
Response JsonError(int status, std::string_view message);
// The error response for a non-OK status (its code picks the HTTP status).
Response ErrorResponse(const Status& status);
Response JsonResponse(int status, const nlohmann::json& body);
Response TextResponse(int status, std::string body, std::string_view content_type);

// The bearer token from an Authorization header, or "" if there is none.
std::string_view BearerToken(const Request& request);
// Constant-time comparison for secrets.
bool SecretsEqual(std::string_view a, std::string_view b);

// The path part of a request target ("/iris?x=1" -> "/iris") and its query ("x=1").
std::string_view TargetPath(std::string_view target);
std::string_view TargetQuery(std::string_view target);

}  // namespace axon::http
