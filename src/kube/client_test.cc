// The client against FakeApiServer, a scripted fake of kube-apiserver (no cluster runs in
// these tests): errors, TLS and client certificates, tokens, connection reuse and recovery,
// concurrent calls, pagination, optimistic concurrency and the scale subresource.
#include "kube/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kube/testing/fake_api_server.h"
#include "kube/testing/wait.h"

namespace axon::kube {
namespace {

namespace fs = std::filesystem;
using testing::Exchange;
using testing::FakeApiServer;
using testing::WaitUntil;

Credentials PlainCredentials(const FakeApiServer& server, std::string token = "t0ken") {
  Credentials c;
  c.server = *ParseServerUrl(server.url());
  c.token = std::move(token);
  c.description = "test";
  return c;
}

std::unique_ptr<FakeApiServer> StartFake(testing::Script script) {
  auto server = FakeApiServer::Start({}, std::move(script));
  EXPECT_TRUE(server.ok()) << server.status().message();
  return std::move(server).value();
}

std::unique_ptr<Client> MakeClient(Credentials c, ClientOptions options = {}) {
  auto client = Client::New(std::move(c), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().message();
  return std::move(client).value();
}

Json Deployment(const std::string& name, const std::string& rv, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "axon"}, {"resourceVersion", rv}}},
          {"spec", {{"replicas", replicas}}}};
}

TEST(Client, GetSendsTheTokenAndReturnsTheObject) {
  auto server = StartFake([](Exchange& ex) { ex.Reply(200, Deployment("iris", "7", 2)); });
  auto client = MakeClient(PlainCredentials(*server));
  auto got = client->Get("/apis/apps/v1/namespaces/axon/deployments/iris");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ((*got)["spec"]["replicas"], 2);
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_EQ(server->requests()[0].method, "GET");
  EXPECT_EQ(server->requests()[0].authorization, "Bearer t0ken");
}

TEST(Client, ErrorsCarryTheServersStatus) {
  auto server = StartFake([](Exchange& ex) {
    if (ex.request().method == "GET") {
      ex.ReplyStatus(404, "NotFound", "deployments.apps \"iris\" not found");
    } else if (ex.request().method == "POST") {
      ex.ReplyStatus(409, "AlreadyExists", "deployments.apps \"iris\" already exists");
    } else {
      ex.ReplyStatus(403, "Forbidden", "deployments.apps is forbidden: User \"x\" cannot delete");
    }
  });
  auto client = MakeClient(PlainCredentials(*server));
  const std::string path = "/apis/apps/v1/namespaces/axon/deployments/iris";
  auto got = client->Get(path);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(),
            "GET " + path + ": deployments.apps \"iris\" not found (NotFound, HTTP 404)");
  auto created =
      client->Create("/apis/apps/v1/namespaces/axon/deployments", Deployment("iris", "", 1));
  EXPECT_EQ(created.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(created.status().message().find("(AlreadyExists, HTTP 409)"), std::string::npos);
  Status deleted = client->Delete(path);
  EXPECT_EQ(deleted.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(deleted.message().find("cannot delete (Forbidden, HTTP 403)"), std::string::npos);
}

TEST(Client, NothingListeningIsUnavailable) {
  uint16_t port;
  {
    auto server = StartFake([](Exchange&) {});
    port = server->port();
  }
  Credentials c;
  c.server = *ParseServerUrl("http://127.0.0.1:" + std::to_string(port));
  auto client = MakeClient(c);
  auto got = client->Get("/api/v1/pods");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("cannot connect to 127.0.0.1"), std::string::npos)
      << got.status().message();
}

TEST(Client, WritesUseTheRightVerbsAndContentTypes) {
  auto server = StartFake([](Exchange& ex) { ex.Reply(200, Json::object()); });
  auto client = MakeClient(PlainCredentials(*server));
  const std::string path = "/apis/apps/v1/namespaces/axon/deployments/iris";
  ASSERT_TRUE(
      client->Create("/apis/apps/v1/namespaces/axon/deployments", Deployment("iris", "", 1)).ok());
  ASSERT_TRUE(client->Replace(path, Deployment("iris", "3", 1)).ok());
  ASSERT_TRUE(client->Patch(path, PatchType::kMerge, {{"spec", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(client->Patch(path, PatchType::kStrategicMerge, Json::object()).ok());
  ASSERT_TRUE(client->Apply(path, Deployment("iris", "", 1)).ok());
  ASSERT_TRUE(client->Delete(path, Propagation::kForeground).ok());
  auto r = server->requests();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].content_type, "application/json");
  EXPECT_EQ(Json::parse(r[0].body)["metadata"]["name"], "iris");
  EXPECT_EQ(r[1].method, "PUT");
  EXPECT_EQ(r[2].content_type, "application/merge-patch+json");
  EXPECT_EQ(Json::parse(r[2].body)["spec"]["replicas"], 3);
  EXPECT_EQ(r[3].content_type, "application/strategic-merge-patch+json");
  EXPECT_EQ(r[4].content_type, "application/apply-patch+yaml");
  EXPECT_EQ(r[4].target, path + "?fieldManager=axon&force=true");
  EXPECT_EQ(r[5].method, "DELETE");
  EXPECT_EQ(Json::parse(r[5].body)["propagationPolicy"], "Foreground");
}

TEST(Client, ReusesKeepAliveConnectionsAndRecoversWhenTheServerClosedOne) {
  std::atomic<int> calls{0};
  auto server = StartFake([&](Exchange& ex) {
    ex.Reply(200, {{"n", ++calls}});
    if (calls == 2) ex.Drop();  // like an API server closing an idle keep-alive connection
  });
  auto client = MakeClient(PlainCredentials(*server));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client->Get("/api/v1/namespaces").ok()) << i;
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(server->connections(), 2);  // calls 1-2 on the first, 3-4 on a new one
}

TEST(Client, AnUnansweredCallOnAFreshConnectionIsNotRepeated) {
  std::atomic<int> calls{0};
  auto server = StartFake([&](Exchange& ex) {
    ++calls;
    ex.Drop();
  });
  auto client = MakeClient(PlainCredentials(*server));
  auto created = client->Create("/api/v1/namespaces/axon/configmaps", Json::object());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST(Client, ASlowCallDoesNotHoldUpOthers) {
  std::atomic<bool> release{false};
  std::atomic<bool> slow_started{false};
  auto server = StartFake([&](Exchange& ex) {
    if (ex.request().target.find("slow") != std::string::npos) {
      slow_started = true;
      WaitUntil([&] { return release.load(); });
    }
    ex.Reply(200, {{"path", ex.request().target}});
  });
  auto client = MakeClient(PlainCredentials(*server));
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    EXPECT_TRUE(client->Get("/api/v1/slow").ok());
    slow_done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return slow_started.load(); }));
  // While the slow call is held by the server, other calls go through on other connections.
  for (int i = 0; i < 3; ++i) {
    auto fast = client->Get("/api/v1/fast");
    ASSERT_TRUE(fast.ok()) << fast.status().message();
  }
  EXPECT_FALSE(slow_done.load());
  release = true;
  slow.join();
  EXPECT_TRUE(slow_done.load());
}

TEST(Client, ACallThatGetsNoAnswerTimesOut) {
  std::atomic<bool> release{false};
  auto server = StartFake([&](Exchange& ex) {
    WaitUntil([&] { return release.load(); });
    ex.Drop();
  });
  auto client = MakeClient(PlainCredentials(*server), {.call_timeout = Millis(100)});
  auto got = client->Get("/api/v1/pods");
  release = true;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("timed out"), std::string::npos) << got.status().message();
}

TEST(Client, ListFollowsPagesAndStartsOverWhenTheContinueTokenExpired) {
  std::atomic<int> calls{0};
  auto server = StartFake([&](Exchange& ex) {
    const std::string& t = ex.request().target;
    const int n = ++calls;
    if (t.find("continue=") == std::string::npos) {
      ex.Reply(200, {{"metadata", {{"resourceVersion", n == 1 ? "10" : "20"}, {"continue", "p2"}}},
                     {"items", {Deployment("a", "1", 1)}}});
    } else if (n == 2) {
      ex.ReplyStatus(410, "Expired", "The provided continue parameter is too old");
    } else {
      ex.Reply(200,
               {{"metadata", {{"resourceVersion", "20"}}}, {"items", {Deployment("b", "2", 1)}}});
    }
  });
  auto client = MakeClient(PlainCredentials(*server));
  auto list = client->List("/apis/apps/v1/namespaces/axon/deployments", {.label_selector = "x=y"});
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0]["metadata"]["name"], "a");
  EXPECT_EQ(list->items[1]["metadata"]["name"], "b");
  EXPECT_EQ(list->resource_version, "20");
  auto r = server->requests();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].target, "/apis/apps/v1/namespaces/axon/deployments?labelSelector=x%3Dy&limit=500");
  EXPECT_NE(r[3].target.find("continue=p2"), std::string::npos);
}

// A server that keeps one Deployment and checks resourceVersion on PUT, like the real one;
// `interfere` writes happen between our GET and PUT.
struct VersionedObject {
  std::mutex mu;
  Json object = Deployment("iris", "1", 1);
  int interfere = 0;
  int puts = 0;
  void Serve(Exchange& ex) {
    std::lock_guard<std::mutex> lock(mu);
    if (ex.request().method == "GET") {
      ex.Reply(200, object);
      if (interfere > 0) {  // someone else writes right after our read
        --interfere;
        Bump();
      }
      return;
    }
    ++puts;
    Json sent = Json::parse(ex.request().body);
    if (sent["metadata"]["resourceVersion"] != object["metadata"]["resourceVersion"]) {
      ex.ReplyStatus(
          409, "Conflict",
          "Operation cannot be fulfilled on deployments.apps \"iris\": the object has "
          "been modified; please apply your changes to the latest version and try again");
      return;
    }
    object = sent;
    Bump();
    ex.Reply(200, object);
  }
  void Bump() {
    const int rv = std::stoi(object["metadata"]["resourceVersion"].get<std::string>());
    object["metadata"]["resourceVersion"] = std::to_string(rv + 1);
  }
};

TEST(Client, UpdateRereadsAndRetriesOnConflict) {
  VersionedObject store;
  store.interfere = 2;
  auto server = StartFake([&](Exchange& ex) { store.Serve(ex); });
  auto client = MakeClient(PlainCredentials(*server));
  auto updated = client->Update("/apis/apps/v1/namespaces/axon/deployments/iris", [](Json& d) {
    d["spec"]["replicas"] = d["spec"]["replicas"].get<int>() + 1;
    return OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ((*updated)["spec"]["replicas"], 2);
  EXPECT_EQ(store.puts, 3);  // two conflicts, then success
}

TEST(Client, UpdateGivesUpAfterBoundedConflicts) {
  VersionedObject store;
  store.interfere = 1000;
  auto server = StartFake([&](Exchange& ex) { store.Serve(ex); });
  auto client = MakeClient(PlainCredentials(*server), {.conflict_attempts = 3});
  auto updated = client->Update("/apis/apps/v1/namespaces/axon/deployments/iris", [](Json& d) {
    d["spec"]["replicas"] = 5;
    return OkStatus();
  });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(store.puts, 3);
  EXPECT_NE(updated.status().message().find("gave up after 3 conflicting writes"),
            std::string::npos);
  EXPECT_NE(updated.status().message().find("(Conflict, HTTP 409)"), std::string::npos);
}

TEST(Client, UpdateThatChangesNothingDoesNotWrite) {
  VersionedObject store;
  auto server = StartFake([&](Exchange& ex) { store.Serve(ex); });
  auto client = MakeClient(PlainCredentials(*server));
  auto same = client->Update("/apis/apps/v1/namespaces/axon/deployments/iris",
                             [](Json&) { return OkStatus(); });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(store.puts, 0);
}

TEST(Client, ScaleSubresource) {
  auto server = StartFake([](Exchange& ex) {
    ex.Reply(200, {{"kind", "Scale"},
                   {"apiVersion", "autoscaling/v1"},
                   {"spec", {{"replicas", 3}}},
                   {"status", {{"replicas", 2}, {"selector", "axon.dev/api=iris"}}}});
  });
  auto client = MakeClient(PlainCredentials(*server));
  const std::string path = "/apis/apps/v1/namespaces/axon/deployments/iris";
  auto scale = client->GetScale(path);
  ASSERT_TRUE(scale.ok()) << scale.status().message();
  EXPECT_EQ(scale->desired, 3);
  EXPECT_EQ(scale->current, 2);
  EXPECT_EQ(scale->selector, "axon.dev/api=iris");
  ASSERT_TRUE(client->SetScale(path, 5).ok());
  auto r = server->requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].target, path + "/scale");
  EXPECT_EQ(r[1].method, "PATCH");
  EXPECT_EQ(r[1].target, path + "/scale");
  EXPECT_EQ(Json::parse(r[1].body), Json({{"spec", {{"replicas", 5}}}}));
}

TEST(Client, TokenFileIsReadAgainWhenItChanges) {
  auto server = StartFake([](Exchange& ex) { ex.Reply(200, Json::object()); });
  const fs::path file = fs::temp_directory_path() / ("kube-token-" + std::to_string(::getpid()));
  std::ofstream(file) << "first\n";
  Credentials c = PlainCredentials(*server, "");
  c.token_file = file;
  auto client = MakeClient(c);
  ASSERT_TRUE(client->Get("/api").ok());
  std::ofstream(file) << "second\n";
  fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(5));
  ASSERT_TRUE(client->Get("/api").ok());
  fs::remove(file);
  auto r = server->requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].authorization, "Bearer first");
  EXPECT_EQ(r[1].authorization, "Bearer second");
}

// TLS: certificates made with openssl for this test.
class ClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("kube-pki-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto made = testing::MakeTestPki(dir_.string());
    ASSERT_TRUE(made.ok()) << made.status().message();
    pki_ = new testing::TestPki(std::move(made).value());
  }
  static void TearDownTestSuite() {
    delete pki_;
    fs::remove_all(dir_);
  }
  static std::unique_ptr<FakeApiServer> StartTls(bool require_client_cert, bool other_ca = false) {
    testing::FakeApiServerOptions o;
    o.tls = true;
    o.cert_pem = other_ca ? pki_->other_server_cert_pem : pki_->server_cert_pem;
    o.key_pem = other_ca ? pki_->other_server_key_pem : pki_->server_key_pem;
    if (require_client_cert) o.client_ca_pem = pki_->ca_pem;
    auto s = FakeApiServer::Start(o, [](Exchange& ex) {
      ex.Reply(200, {{"kind", "APIVersions"}});
    });
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s).value();
  }
  static Credentials TlsCredentials(const FakeApiServer& s) {
    Credentials c;
    c.server = *ParseServerUrl(s.url());
    c.ca_pem = pki_->ca_pem;
    c.description = "test kubeconfig";
    return c;
  }
  static inline fs::path dir_;
  static inline testing::TestPki* pki_ = nullptr;
};

TEST_F(ClientTls, VerifiesTheServerAndPresentsAClientCertificate) {
  auto server = StartTls(/*require_client_cert=*/true);
  Credentials c = TlsCredentials(*server);
  c.client_cert_pem = pki_->client_cert_pem;
  c.client_key_pem = pki_->client_key_pem;
  auto client = MakeClient(c);
  auto got = client->Get("/api");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ((*got)["kind"], "APIVersions");
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_NE(server->requests()[0].client_subject.find("CN=axon-tester"), std::string::npos)
      << server->requests()[0].client_subject;
  EXPECT_EQ(server->requests()[0].authorization, "");
}

TEST_F(ClientTls, TokenOverTls) {
  auto server = StartTls(/*require_client_cert=*/false);
  Credentials c = TlsCredentials(*server);
  c.token = "abc";
  auto client = MakeClient(c);
  ASSERT_TRUE(client->Get("/api").ok());
  EXPECT_EQ(server->requests()[0].authorization, "Bearer abc");
}

TEST_F(ClientTls, RefusesAServerSignedByAnotherCa) {
  auto server = StartTls(false, /*other_ca=*/true);
  auto client = MakeClient(TlsCredentials(*server));
  auto got = client->Get("/api");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("TLS handshake failed"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find("certificate verify failed"), std::string::npos)
      << got.status().message();
  EXPECT_TRUE(server->requests().empty());
}

TEST_F(ClientTls, AServerThatRequiresAClientCertificateRefusesUsWithoutOne) {
  auto server = StartTls(/*require_client_cert=*/true);
  auto client = MakeClient(TlsCredentials(*server));
  auto got = client->Get("/api");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(server->requests().empty());
}

TEST_F(ClientTls, BadPemIsAClearErrorAtCreate) {
  Credentials c;
  c.server = *ParseServerUrl("https://127.0.0.1:1");
  c.description = "kubeconfig F";
  c.ca_pem = "not a certificate";
  auto client = Client::New(c);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("kubeconfig F: bad certificate-authority"),
            std::string::npos)
      << client.status().message();
  c.ca_pem = pki_->ca_pem;
  c.client_cert_pem = pki_->client_cert_pem;
  c.client_key_pem = pki_->server_key_pem;  // not the certificate's key
  client = Client::New(c);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("bad client-key"), std::string::npos)
      << client.status().message();
}

}  // namespace
}  // namespace axon::kube
