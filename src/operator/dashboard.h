// The web dashboard's HTTP side (served by ManagementApi): its page and files, and signing
// in. The page is one HTML document for "/" (the API list) and "/apis/NAME" (one API) whose
// script reads the management API's JSON endpoints; the files are compiled in
// (dashboard_assets.h).
//
// Signing in trades the platform token for a session cookie: GET /login?token=T[&next=/PATH]
// (the link `axon up` and `axon dashboard` print) or POST /login from the form, which anyone
// without the link gets. The cookie holds SHA-256 of the token, not the token, is HttpOnly and
// SameSite=Strict, and lasts until the browser closes; it changes when the token does. A
// session grants GET requests only (ManagementApi): reading, never changing the platform.
//
// Pure functions of the request and the token; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "http/beast.h"

namespace axon::operator_ {

inline constexpr std::string_view kSessionCookie = "axon_session";

// The session cookie's value for `token`.
std::string SessionValue(std::string_view token);
// The value of cookie `name` in the request's Cookie headers; "" when it has none.
std::string CookieValue(const http::Request& request, std::string_view name);
// True when the request carries the session cookie of `token`.
bool HasSession(const http::Request& request, std::string_view token);

// "/", "/apis/NAME", "/login", "/logout" and "/dashboard/FILE": the paths DashboardRoute()
// answers.
bool IsDashboardPath(std::string_view path);
// Answers a dashboard path. `signed_in`: the request carries the token or its session. The
// files (/dashboard/FILE) need no session: they hold no data. Without one, "/" and
// "/apis/NAME" answer the login form.
http::Response DashboardRoute(const http::Request& request, std::string_view token, bool signed_in);

}  // namespace axon::operator_
