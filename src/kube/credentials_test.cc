#include "kube/credentials.h"

#include "kube/base64.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace axon::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("kube-creds-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(ParseServerUrl, HostPortAndPrefix) {
  auto a = ParseServerUrl("https://10.244.0.1:6443");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->host, "10.244.0.1");
  EXPECT_EQ(a->port, 6443);
  EXPECT_EQ(a->path_prefix, "");
  auto b = ParseServerUrl("http://api.example:8080/k8s/");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->tls);
  EXPECT_EQ(b->port, 8080);
  EXPECT_EQ(b->path_prefix, "/k8s");
  auto c = ParseServerUrl("https://[fd00::1]:443");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "fd00::1");
  EXPECT_EQ(ParseServerUrl("https://example.com")->port, 443);
  EXPECT_FALSE(ParseServerUrl("example.com:443").ok());
  EXPECT_FALSE(ParseServerUrl("https://h:99999").ok());
  EXPECT_FALSE(ParseServerUrl("https://:1").ok());
}

TEST(DecodeBase64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8gd29ybGQ="), "hello world");
  EXPECT_FALSE(DecodeBase64("YWI=\nYw==").ok());  // data after padding
}

TEST(EncodeBase64, AllPaddings) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("a"), "YQ==");
  EXPECT_EQ(EncodeBase64("ab"), "YWI=");
  EXPECT_EQ(EncodeBase64("abc"), "YWJj");
  const std::string binary("\x00\xff\x10\x80", 4);
  EXPECT_EQ(*DecodeBase64(EncodeBase64(binary)), binary);
}

TEST(DecodeBase64, Errors) {
  EXPECT_FALSE(DecodeBase64("a$b").ok());
  EXPECT_EQ(*DecodeBase64("YWJj"), "abc");
  EXPECT_EQ(*DecodeBase64("YW Jj\n"), "abc");
}

constexpr char kConfig[] = R"(apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0EtUEVN
- name: prod
  cluster:
    server: https://prod:443
    certificate-authority: certs/ca.pem
users:
- name: admin
  user: {token: secret-token}
- name: cert-user
  user:
    client-certificate: certs/client.pem
    client-key-data: S0VZ
- name: sso
  user:
    exec: {command: aws}
contexts:
- name: dev
  context: {cluster: dev, user: admin}
- name: prod
  context: {cluster: prod, user: cert-user, namespace: models}
- name: eks
  context: {cluster: prod, user: sso}
current-context: dev
)";

TEST(LoadKubeconfig, CurrentContextWithTokenAndInlineCa) {
  TempDir dir;
  auto creds = LoadKubeconfig(dir.Write("config", kConfig));
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(creds->server.host, "10.0.0.1");
  EXPECT_EQ(creds->server.port, 6443);
  EXPECT_EQ(creds->ca_pem, "CA-PEM");
  EXPECT_EQ(creds->token, "secret-token");
  EXPECT_EQ(creds->default_namespace, "default");
}

TEST(LoadKubeconfig, NamedContextWithFilesRelativeToTheConfig) {
  TempDir dir;
  fs::create_directories(dir.path() / "certs");
  dir.Write("certs/ca.pem", "PROD-CA");
  dir.Write("certs/client.pem", "CLIENT-CERT");
  auto creds = LoadKubeconfig(dir.Write("config", kConfig), "prod");
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(creds->ca_pem, "PROD-CA");
  EXPECT_EQ(creds->client_cert_pem, "CLIENT-CERT");
  EXPECT_EQ(creds->client_key_pem, "KEY");
  EXPECT_EQ(creds->token, "");
  EXPECT_EQ(creds->default_namespace, "models");
}

TEST(LoadKubeconfig, ClearErrors) {
  TempDir dir;
  const fs::path config = dir.Write("config", kConfig);
  auto missing_file = LoadKubeconfig(config, "prod");  // certs/ca.pem does not exist
  ASSERT_FALSE(missing_file.ok());
  EXPECT_NE(missing_file.status().message().find("certificate-authority"), std::string::npos)
      << missing_file.status().message();
  auto no_context = LoadKubeconfig(config, "staging");
  ASSERT_FALSE(no_context.ok());
  EXPECT_NE(no_context.status().message().find("no context named \"staging\""), std::string::npos)
      << no_context.status().message();
  fs::create_directories(dir.path() / "certs");
  dir.Write("certs/ca.pem", "PROD-CA");
  auto exec = LoadKubeconfig(config, "eks");
  ASSERT_FALSE(exec.ok());
  EXPECT_NE(exec.status().message().find("exec and auth-provider"), std::string::npos)
      << exec.status().message();
  auto not_yaml = LoadKubeconfig(dir.Write("bad", "clusters: [\n"));
  ASSERT_FALSE(not_yaml.ok());
  EXPECT_NE(not_yaml.status().message().find("kubeconfig"), std::string::npos);
  EXPECT_FALSE(LoadKubeconfig(dir.path() / "absent").ok());
}

TEST(InClusterCredentials, ServiceAccountFilesAndEnvironment) {
  TempDir dir;
  dir.Write("ca.crt", "CLUSTER-CA");
  dir.Write("token", "sa-token\n");
  dir.Write("namespace", "axon\n");
  auto creds = InClusterCredentials(
      {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, dir.path());
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(creds->server.host, "10.96.0.1");
  EXPECT_EQ(creds->server.port, 443);
  EXPECT_EQ(creds->ca_pem, "CLUSTER-CA");
  EXPECT_EQ(creds->token_file, dir.path() / "token");
  EXPECT_EQ(creds->default_namespace, "axon");

  auto outside = InClusterCredentials({}, dir.path());
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST(DefaultKubeconfigPath, EnvironmentFirst) {
  EXPECT_EQ(DefaultKubeconfigPath({{"KUBECONFIG", "/a:/b"}, {"HOME", "/h"}}), "/a");
  EXPECT_EQ(DefaultKubeconfigPath({{"HOME", "/h"}}), "/h/.kube/config");
}

}  // namespace
}  // namespace axon::kube
