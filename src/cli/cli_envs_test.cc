#include "cli/cli_envs.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

namespace axon::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

CliEnv Prod() {
  return {.operator_url = "http://10.0.0.5:31889",
          .gateway_url = "http://10.0.0.5:31888",
          .token = "t0k",
          .kubeconfig = "/home/u/.kube/config",
          .context = "",
          .kube_namespace = "axon"};
}

TEST(BaseUrl, ParsesHttpAndHttps) {
  auto a = ParseBaseUrl("http://10.0.0.5:31889", "operator");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "10.0.0.5");
  EXPECT_EQ(a->port, 31889);
  auto b = ParseBaseUrl("https://axon.example.com:443/", "operator");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->ToString(), "https://axon.example.com:443");
  auto c = ParseBaseUrl("http://[fd00::1]:80", "gateway");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->host, "fd00::1");
}

TEST(BaseUrl, RefusesWhatIsNotHostAndPort) {
  for (const char* bad : {"10.0.0.5:31889", "ftp://h:1", "http://h", "http://h:0", "http://h:70000",
                          "http://h:12x", "http://h:80/v1", "http://:80"}) {
    auto url = ParseBaseUrl(bad, "operator");
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_NE(url.status().message().find(std::string("operator \"") + bad), std::string::npos)
        << url.status().message();
    EXPECT_NE(url.status().message().find("http://HOST:PORT"), std::string::npos);
  }
}

TEST(CliEnvs, NamesAreChecked) {
  EXPECT_TRUE(CheckEnvName("prod-1").ok());
  for (const char* bad : {"", "-x", "Prod", "a b", "a/b", "a.b"}) {
    EXPECT_FALSE(CheckEnvName(bad).ok()) << bad;
  }
  EXPECT_FALSE(CheckEnvName(std::string(64, 'a')).ok());
  const Status local = CheckEnv("local", Prod());
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.message().find("axon up"), std::string::npos);
  CliEnv no_token = Prod();
  no_token.token = "";
  EXPECT_NE(CheckEnv("prod", no_token).message().find("no token"), std::string::npos);
}

TEST(CliEnvs, RoundTripsThroughTheFileOwnerOnly) {
  const fs::path dir = fs::temp_directory_path() / ("cli-envs-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path file = CliEnvsFile(dir);
  auto missing = CliEnvs::Load(file);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->current, "local");
  EXPECT_TRUE(missing->envs.empty());

  CliEnvs envs;
  envs.envs["prod"] = Prod();
  envs.envs["dev"] = {.operator_url = "https://dev:8889", .token = "d"};
  envs.current = "prod";
  ASSERT_TRUE(envs.Save(file).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds tokens";
  auto back = CliEnvs::Load(file);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->current, "prod");
  EXPECT_EQ(back->envs, envs.envs);
  const Json json = Json::parse(std::ifstream(file));
  EXPECT_EQ(json["envs"]["prod"]["operator"], "http://10.0.0.5:31889");
  EXPECT_EQ(json["envs"]["prod"]["namespace"], "axon");
  fs::remove_all(dir);
}

TEST(CliEnvs, AMalformedFileIsNamedWithTheFix) {
  const auto error = [](const Json& json) {
    auto envs = CliEnvs::FromJson(json, "/h/cli_envs.json");
    EXPECT_FALSE(envs.ok()) << json.dump();
    return envs.ok() ? std::string() : envs.status().message();
  };
  EXPECT_NE(error(Json::array()).find("/h/cli_envs.json: not a JSON object"), std::string::npos);
  EXPECT_NE(error({{"current", 3}}).find("\"current\" is not a string"), std::string::npos);
  EXPECT_NE(error({{"envs", {{"prod", {{"operator", 5}}}}}}).find("\"operator\" is not a string"),
            std::string::npos);
  EXPECT_NE(error({{"envs", {{"prod", {{"operator", "h:1"}, {"token", "t"}}}}}})
                .find("env prod: operator \"h:1\""),
            std::string::npos);
  EXPECT_NE(error({{"current", "gone"}}).find("the current env \"gone\" is not defined"),
            std::string::npos);
  EXPECT_NE(error({{"envs", {{"local", {{"operator", "http://h:1"}, {"token", "t"}}}}}})
                .find("env \"local\""),
            std::string::npos);
  const fs::path file = fs::temp_directory_path() / ("bad-envs-" + std::to_string(::getpid()));
  std::ofstream(file) << "{not json";
  auto envs = CliEnvs::Load(file);
  ASSERT_FALSE(envs.ok());
  EXPECT_NE(envs.status().message().find("not valid JSON"), std::string::npos);
  fs::remove(file);
}

}  // namespace
}  // namespace axon::cli
