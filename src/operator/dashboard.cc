#include "operator/dashboard.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "common/sha256.h"
#include "http/responses.h"
#include "http/url.h"
#include "operator/dashboard_assets.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;
using http::Response;

constexpr std::string_view kAssetPrefix = "/dashboard/";
constexpr std::string_view kApiPagePrefix = "/apis/";

const DashboardAsset* FindAsset(std::string_view name) {
  for (const auto& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

std::string HtmlEscape(std::string_view text) {
  constexpr std::pair<char, std::string_view> kEntities[] = {
      {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto* entity = std::find_if(std::begin(kEntities), std::end(kEntities),
                                      [c](const auto& e) { return e.first == c; });
    if (entity == std::end(kEntities)) {
      out += c;
    } else {
      out += entity->second;
    }
  }
  return out;
}

bool IsPage(std::string_view path) {
  return path == "/" || (path.starts_with(kApiPagePrefix) && path.size() > kApiPagePrefix.size());
}

// Where to go after signing in: a dashboard page of this server, never another site.
std::string SafeNext(std::string_view next) {
  const bool plain = std::all_of(next.begin(), next.end(), [](char c) {
    return static_cast<unsigned char>(c) > ' ' && c != '\\' && c != '"' && c != '<' && c != '>';
  });
  return plain && IsPage(next) && !next.starts_with("//") ? std::string(next) : "/";
}

// An HTML answer: no caching (it may follow a sign-in), no framing, scripts and styles from
// this server only.
Response Html(int status, std::string body) {
  Response res = http::TextResponse(status, std::move(body), "text/html; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

std::string Replace(std::string text, std::string_view key, const std::string& value) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

Response LoginForm(int status, std::string_view message, std::string_view next) {
  const DashboardAsset* form = FindAsset("login.html");
  std::string body = Replace(std::string(form->content), "{{message}}", HtmlEscape(message));
  body = Replace(std::move(body), "{{message_class}}", message.empty() ? "hidden" : "error");
  return Html(status, Replace(std::move(body), "{{next}}", HtmlEscape(SafeNext(next))));
}

Response SignIn(std::string_view token, std::string_view given, std::string_view next) {
  if (given.empty() || !http::SecretsEqual(given, token)) {
    return LoginForm(401,
                     "Wrong token. `axon dashboard` prints a link that signs in; the token is "
                     "in $AXON_HOME/token.",
                     next);
  }
  Response res{bhttp::status::see_other, 11};
  res.set(bhttp::field::location, SafeNext(next));
  res.set(bhttp::field::set_cookie, std::string(kSessionCookie) + "=" + SessionValue(token) +
                                        "; Path=/; HttpOnly; SameSite=Strict");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

}  // namespace

std::string SessionValue(std::string_view token) {
  return Sha256Hex("axon dashboard session\n" + std::string(token));
}

std::string CookieValue(const http::Request& request, std::string_view name) {
  const auto [first, last] = request.equal_range(bhttp::field::cookie);
  for (auto field = first; field != last; ++field) {
    std::string_view rest(field->value().data(), field->value().size());
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      std::string_view pair = rest.substr(0, semicolon);
      rest.remove_prefix(semicolon == std::string_view::npos ? rest.size() : semicolon + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return {};
}

bool HasSession(const http::Request& request, std::string_view token) {
  const std::string value = CookieValue(request, kSessionCookie);
  return !value.empty() && http::SecretsEqual(value, SessionValue(token));
}

bool IsDashboardPath(std::string_view path) {
  return IsPage(path) || path == "/login" || path == "/logout" || path.starts_with(kAssetPrefix);
}

Response DashboardRoute(const http::Request& request, std::string_view token, bool signed_in) {
  const std::string path(http::TargetPath(request.target()));
  const auto method = request.method();
  const auto query = http::ParseQuery(http::TargetQuery(request.target()));
  auto param = [](const std::vector<std::pair<std::string, std::string>>& pairs,
                  std::string_view key) -> const std::string* {
    for (const auto& [k, v] : pairs) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  const std::string* next = param(query, "next");
  const std::string_view next_path = next != nullptr ? std::string_view(*next) : "/";
  if (path == "/login" && method == bhttp::verb::post) {
    const auto form = http::ParseQuery(request.body());
    const std::string* given = param(form, "token");
    const std::string* form_next = param(form, "next");
    return SignIn(token, given != nullptr ? std::string_view(*given) : "",
                  form_next != nullptr ? std::string_view(*form_next) : next_path);
  }
  if (method != bhttp::verb::get && method != bhttp::verb::head) {
    return http::JsonError(405, path + " answers GET" + (path == "/login" ? " and POST" : ""));
  }
  if (path == "/login") {
    const std::string* given = param(query, "token");
    if (given == nullptr) return LoginForm(200, "", next_path);
    return SignIn(token, *given, next_path);
  }
  if (path == "/logout") {
    Response res{bhttp::status::see_other, 11};
    res.set(bhttp::field::location, "/login");
    res.set(bhttp::field::set_cookie,
            std::string(kSessionCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    return res;
  }
  if (path.starts_with(kAssetPrefix)) {
    const DashboardAsset* asset = FindAsset(std::string_view(path).substr(kAssetPrefix.size()));
    if (asset == nullptr || asset->name.ends_with(".html")) {
      return http::JsonError(404, "no dashboard file " + path);
    }
    Response res = http::TextResponse(200, std::string(asset->content), asset->content_type);
    res.set("X-Content-Type-Options", "nosniff");
    return res;
  }
  if (!signed_in) return LoginForm(200, "", path);
  return Html(200, std::string(FindAsset("index.html")->content));
}

}  // namespace axon::operator_
