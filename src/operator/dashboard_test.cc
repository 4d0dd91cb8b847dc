#include "operator/dashboard.h"

#include <gtest/gtest.h>

#include "http/client.h"
#include "http/url.h"

namespace axon::operator_ {
namespace {

namespace bhttp = http::bhttp;

constexpr std::string_view kToken = "0123456789abcdef";

http::Request Get(std::string_view target, std::string_view cookie = {}) {
  http::Request req = http::MakeRequest(bhttp::verb::get, target);
  if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
  return req;
}

std::string Header(const http::Response& res, bhttp::field field) {
  const auto it = res.find(field);
  return it == res.end() ? "" : std::string(it->value());
}

TEST(DashboardTest, CookieValues) {
  EXPECT_EQ(CookieValue(Get("/", "a=1; axon_session=xyz; b=2"), "axon_session"), "xyz");
  EXPECT_EQ(CookieValue(Get("/", "axon_session=xyz"), "axon_session"), "xyz");
  EXPECT_EQ(CookieValue(Get("/", "not_axon_session=xyz"), "axon_session"), "");
  EXPECT_EQ(CookieValue(Get("/"), "axon_session"), "");
  const std::string session = "axon_session=" + SessionValue(kToken);
  EXPECT_TRUE(HasSession(Get("/", session), kToken));
  EXPECT_FALSE(HasSession(Get("/", session), "another token"));
  EXPECT_FALSE(HasSession(Get("/", "axon_session="), kToken));
  EXPECT_NE(SessionValue(kToken), kToken);  // the cookie is not the token
}

TEST(DashboardTest, Paths) {
  for (const char* path : {"/", "/apis/iris", "/login", "/logout", "/dashboard/app.js"}) {
    EXPECT_TRUE(IsDashboardPath(path)) << path;
  }
  for (const char* path : {"/v1/apis", "/metrics", "/healthz", "/apis/", "/favicon.ico"}) {
    EXPECT_FALSE(IsDashboardPath(path)) << path;
  }
}

TEST(DashboardTest, RightTokenSetsAnHttpOnlyStrictCookieAndRedirects) {
  const auto res =
      DashboardRoute(Get("/login?token=0123456789abcdef&next=/apis/iris"), kToken, false);
  EXPECT_EQ(res.result_int(), 303);
  EXPECT_EQ(Header(res, bhttp::field::location), "/apis/iris");
  EXPECT_EQ(Header(res, bhttp::field::set_cookie),
            "axon_session=" + SessionValue(kToken) + "; Path=/; HttpOnly; SameSite=Strict");
  // Only pages of this server are places to go next.
  for (const char* next :
       {"//evil.example/apis/x", "https://evil.example/", "/v1/shutdown", "/apis/x\"><script>"}) {
    const auto other = DashboardRoute(
        Get("/login?token=0123456789abcdef&next=" + http::PercentEncode(next)), kToken, false);
    EXPECT_EQ(Header(other, bhttp::field::location), "/") << next;
  }
}

TEST(DashboardTest, LoginFormAndWrongToken) {
  const auto form = DashboardRoute(Get("/login"), kToken, false);
  EXPECT_EQ(form.result_int(), 200);
  EXPECT_NE(form.body().find("<form id=\"login\""), std::string::npos);
  EXPECT_EQ(Header(form, bhttp::field::set_cookie), "");
  const auto wrong = DashboardRoute(Get("/login?token=nope"), kToken, false);
  EXPECT_EQ(wrong.result_int(), 401);
  EXPECT_NE(wrong.body().find("Wrong token"), std::string::npos);
  EXPECT_EQ(Header(wrong, bhttp::field::set_cookie), "");
  EXPECT_EQ(DashboardRoute(Get("/login?token="), kToken, false).result_int(), 401);

  http::Request post = http::MakeRequest(bhttp::verb::post, "/login", {},
                                         "next=%2Fapis%2Firis&token=0123456789abcdef",
                                         "application/x-www-form-urlencoded");
  const auto posted = DashboardRoute(post, kToken, false);
  EXPECT_EQ(posted.result_int(), 303);
  EXPECT_EQ(Header(posted, bhttp::field::location), "/apis/iris");
}

TEST(DashboardTest, PagesNeedASessionFilesDoNot) {
  const auto anonymous = DashboardRoute(Get("/apis/iris"), kToken, false);
  EXPECT_EQ(anonymous.result_int(), 200);
  EXPECT_NE(anonymous.body().find("<form id=\"login\""), std::string::npos);
  EXPECT_NE(anonymous.body().find("value=\"/apis/iris\""), std::string::npos);
  const auto page = DashboardRoute(Get("/apis/iris"), kToken, true);
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_NE(page.body().find("/dashboard/app.js"), std::string::npos);
  EXPECT_EQ(Header(page, bhttp::field::content_type), "text/html; charset=utf-8");
  const auto script = DashboardRoute(Get("/dashboard/app.js"), kToken, false);
  EXPECT_EQ(script.result_int(), 200);
  EXPECT_EQ(Header(script, bhttp::field::content_type), "text/javascript; charset=utf-8");
  EXPECT_EQ(DashboardRoute(Get("/dashboard/nope.js"), kToken, false).result_int(), 404);
  EXPECT_EQ(DashboardRoute(Get("/dashboard/login.html"), kToken, false).result_int(), 404);
  const auto logout = DashboardRoute(Get("/logout"), kToken, true);
  EXPECT_EQ(logout.result_int(), 303);
  EXPECT_NE(Header(logout, bhttp::field::set_cookie).find("Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace axon::operator_
