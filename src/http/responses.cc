#include "http/responses.h"

namespace axon::http {

Response TextResponse(int status, std::string body, std::string_view content_type) {
  Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response JsonResponse(int status, const nlohmann::json& body) {
  // Client bytes (a path, a header) may reach a message and need not be UTF-8: such bytes
  // become U+FFFD instead of an exception.
  return TextResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      "application/json");
}

Response JsonError(int status, std::string_view message) {
  return JsonResponse(status, nlohmann::json{{"error", message}});
}

Response ErrorResponse(const Status& status) {
  return JsonError(HttpStatusFor(status.code()), status.message());
}

std::string_view BearerToken(const Request& request) {
  const auto it = request.find(bhttp::field::authorization);
  if (it == request.end()) return {};
  std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.substr(0, kPrefix.size()) != kPrefix) return {};
  return value.substr(kPrefix.size());
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view TargetPath(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view TargetQuery(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace axon::http
