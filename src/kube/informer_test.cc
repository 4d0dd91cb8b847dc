// The informer (list + watch) against FakeApiServer, a scripted fake of kube-apiserver that
// answers the way a real one does on these paths: chunked watch streams of JSON lines cut at
// arbitrary places, BOOKMARK events, 410 Gone as an ERROR event and as an HTTP status, and
// dropped connections. Backoff waits go to a fake sleeper, so nothing here really sleeps.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "kube/testing/fake_api_server.h"
#include "kube/testing/wait.h"

namespace axon::kube {
namespace {

using testing::Exchange;
using testing::FakeApiServer;
using testing::WaitUntil;

constexpr char kPods[] = "/api/v1/namespaces/axon/pods";

Json Pod(const std::string& name, const std::string& rv, const std::string& phase = "Running") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "axon"}, {"resourceVersion", rv}}},
          {"status", {{"phase", phase}}}};
}

Json PodList(const std::string& rv, std::vector<Json> items) {
  return {{"kind", "PodList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", items}};
}

Json Bookmark(const std::string& rv) {
  return {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", rv}}}};
}

Json Gone(const std::string& message) {
  return {{"kind", "Status"},   {"apiVersion", "v1"},  {"status", "Failure"},
          {"message", message}, {"reason", "Expired"}, {"code", 410}};
}

// Records the delays asked for and returns at once.
class FakeSleeper final : public Sleeper {
 public:
  bool Sleep(Millis d) override {
    std::lock_guard<std::mutex> lock(mu_);
    delays_.push_back(d);
    return !woken_;
  }
  void Wake() override {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  std::vector<Millis> delays() {
    std::lock_guard<std::mutex> lock(mu_);
    return delays_;
  }

 private:
  std::mutex mu_;
  std::vector<Millis> delays_;
  bool woken_ = false;
};

// What the handler saw, as "ADDED a@1" strings.
class Recorder {
 public:
  ChangeHandler Handler() {
    return [this](ChangeType type, const Json& object) {
      const char* name = type == ChangeType::kAdded      ? "ADDED"
                         : type == ChangeType::kModified ? "MODIFIED"
                                                         : "DELETED";
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::string(name) + " " + object["metadata"]["name"].get<std::string>() +
                        "@" + object["metadata"]["resourceVersion"].get<std::string>());
    };
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  bool WaitFor(size_t n) {
    return WaitUntil([&] { return events().size() >= n; });
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

// A watch the test does not want to end: held open until the client goes or the test ends.
void HoldOpen(Exchange& ex, const std::atomic<bool>& done) {
  ex.StartChunked();
  WaitUntil([&] { return done.load(); }, std::chrono::seconds(20));
  ex.End();
}

std::unique_ptr<Client> MakeClient(const FakeApiServer& server) {
  Credentials c;
  c.server = *ParseServerUrl(server.url());
  auto client = Client::New(c);
  EXPECT_TRUE(client.ok());
  return std::move(client).value();
}

std::unique_ptr<FakeApiServer> Serve(testing::Script script) {
  auto server = FakeApiServer::Start({}, std::move(script));
  EXPECT_TRUE(server.ok()) << server.status().message();
  return std::move(server).value();
}

bool IsWatch(const Exchange& ex) {
  return ex.request().target.find("watch=1") != std::string::npos;
}

std::vector<std::string> Targets(const FakeApiServer& server) {
  std::vector<std::string> out;
  for (const auto& r : server.requests()) out.push_back(r.target);
  return out;
}

// Each test scripts the fake server (server_), then starts an informer on kPods against it.
class InformerTest : public ::testing::Test {
 protected:
  void StartInformer(InformerOptions options, bool real_sleeper = false) {
    client_ = MakeClient(*server_);
    informer_ = std::make_unique<Informer>(client_.get(), std::move(options), recorder_.Handler(),
                                           real_sleeper ? nullptr : &sleeper_);
    informer_->Start();
  }
  // Releases the watches the scripts hold open, then stops the informer.
  void TearDown() override {
    done_ = true;
    if (informer_) informer_->Stop();
  }

  std::atomic<bool> done_{false};
  Recorder recorder_;
  FakeSleeper sleeper_;
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Informer> informer_;
};

TEST_F(InformerTest, ListsThenWatchesFromTheListsVersionAndFollowsBookmarks) {
  std::atomic<int> watches{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      ex.Reply(200, PodList("10", {Pod("a", "8"), Pod("b", "9")}));
      return;
    }
    if (++watches == 1) {
      ex.StartChunked();
      // One event split over two chunks, then two events in one chunk, then a bookmark.
      const std::string added =
          Json{{"type", "ADDED"}, {"object", Pod("c", "11", "Pending")}}.dump() + "\n";
      ex.Chunk(added.substr(0, 17));
      ex.Chunk(added.substr(17));
      ex.Chunk(Json{{"type", "MODIFIED"}, {"object", Pod("c", "12")}}.dump() + "\n" +
               Json{{"type", "DELETED"}, {"object", Pod("a", "13")}}.dump() + "\n");
      ex.Event("BOOKMARK", Bookmark("20"));
      ex.End();  // the server's timeoutSeconds passed
      return;
    }
    HoldOpen(ex, done_);
  });
  StartInformer({.collection_path = kPods, .label_selector = "axon.dev/api=iris"});
  ASSERT_TRUE(recorder_.WaitFor(5));
  ASSERT_TRUE(WaitUntil([&] { return watches.load() == 2; }));
  EXPECT_TRUE(informer_->synced());
  EXPECT_EQ(recorder_.events(), (std::vector<std::string>{"ADDED a@8", "ADDED b@9", "ADDED c@11",
                                                          "MODIFIED c@12", "DELETED a@13"}));
  const auto cache = informer_->Cache();
  ASSERT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.at("axon/c")["status"]["phase"], "Running");
  EXPECT_FALSE(informer_->Find("axon", "a").has_value());
  const auto targets = Targets(*server_);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0], std::string(kPods) + "?labelSelector=axon.dev%2Fapi%3Diris&limit=500");
  EXPECT_NE(targets[1].find("resourceVersion=10&allowWatchBookmarks=true"), std::string::npos)
      << targets[1];
  EXPECT_NE(targets[1].find("labelSelector=axon.dev%2Fapi%3Diris"), std::string::npos);
  EXPECT_NE(targets[2].find("resourceVersion=20"), std::string::npos) << targets[2];
  EXPECT_TRUE(sleeper_.delays().empty());  // a watch that ended normally is resumed at once
}

TEST_F(InformerTest, GoneAsAnErrorEventRelistsAndReportsTheDifference) {
  std::atomic<int> lists{0}, watches{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      if (++lists == 1) {
        ex.Reply(200, PodList("10", {Pod("a", "8"), Pod("b", "9")}));
      } else {  // meanwhile a went away, b changed, d appeared
        ex.Reply(200, PodList("50", {Pod("b", "40"), Pod("d", "45")}));
      }
      return;
    }
    if (++watches == 1) {
      ex.StartChunked();
      ex.Event("ERROR", Gone("too old resource version: 10 (30)"));
      ex.End();
      return;
    }
    HoldOpen(ex, done_);
  });
  StartInformer({.collection_path = kPods});
  ASSERT_TRUE(recorder_.WaitFor(5));
  ASSERT_TRUE(WaitUntil([&] { return watches.load() == 2; }));
  // The difference: what went away first, then the rest by name.
  EXPECT_EQ(recorder_.events(), (std::vector<std::string>{"ADDED a@8", "ADDED b@9", "DELETED a@8",
                                                          "MODIFIED b@40", "ADDED d@45"}));
  EXPECT_EQ(informer_->stats().lists, 2);
  EXPECT_NE(Targets(*server_).back().find("resourceVersion=50"), std::string::npos);
  EXPECT_TRUE(sleeper_.delays().empty());  // a re-list after 410 does not wait
}

TEST_F(InformerTest, GoneAsAnHttpStatusRelists) {
  std::atomic<int> lists{0}, watches{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      ++lists;
      ex.Reply(200, PodList(lists == 1 ? "10" : "60", {Pod("a", lists == 1 ? "8" : "55")}));
      return;
    }
    if (++watches == 1) {
      ex.ReplyStatus(410, "Expired", "too old resource version: 10 (30)");
      return;
    }
    HoldOpen(ex, done_);
  });
  StartInformer({.collection_path = kPods});
  ASSERT_TRUE(recorder_.WaitFor(2));
  ASSERT_TRUE(WaitUntil([&] { return watches.load() == 2; }));
  EXPECT_EQ(recorder_.events(), (std::vector<std::string>{"ADDED a@8", "MODIFIED a@55"}));
  EXPECT_EQ(informer_->stats().lists, 2);
}

TEST_F(InformerTest, ADroppedStreamReconnectsAfterABackoffFromTheLastVersionSeen) {
  std::atomic<int> watches{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      ex.Reply(200, PodList("10", {}));
      return;
    }
    const int n = ++watches;
    if (n == 1) {
      ex.StartChunked();
      ex.Event("ADDED", Pod("a", "11"));
      ex.Chunk("{\"type\":\"MODIFIED\",\"obj");  // half an event, then the connection drops
      ex.Drop();
      return;
    }
    if (n == 2) {  // connection dropped before any event: counts as a second failure
      ex.Drop();
      return;
    }
    ex.StartChunked();
    ex.Event("MODIFIED", Pod("a", "12"));
    WaitUntil([&] { return done_.load(); }, std::chrono::seconds(20));
    ex.End();
  });
  StartInformer(
      {.collection_path = kPods, .backoff = {.initial = Millis(100), .max = Millis(150)}});
  ASSERT_TRUE(recorder_.WaitFor(2));
  EXPECT_EQ(recorder_.events(), (std::vector<std::string>{"ADDED a@11", "MODIFIED a@12"}));
  // The first drop came after an event (failures reset, then 1), the second before any: 100 ms,
  // then 150 ms (200 capped at max).
  EXPECT_EQ(sleeper_.delays(), (std::vector<Millis>{Millis(100), Millis(150)}));
  const auto targets = Targets(*server_);
  ASSERT_EQ(targets.size(), 4u);  // list, then three watches: no re-list for a broken stream
  EXPECT_NE(targets[2].find("resourceVersion=11"), std::string::npos) << targets[2];
  EXPECT_NE(targets[3].find("resourceVersion=11"), std::string::npos) << targets[3];
  EXPECT_EQ(informer_->stats().lists, 1);
}

TEST_F(InformerTest, FailedListsBackOffExponentially) {
  std::atomic<int> lists{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      if (++lists <= 4) {
        ex.ReplyStatus(503, "ServiceUnavailable", "etcd is not ready");
      } else {
        ex.Reply(200, PodList("5", {Pod("a", "5")}));
      }
      return;
    }
    HoldOpen(ex, done_);
  });
  StartInformer({.collection_path = kPods});
  ASSERT_TRUE(recorder_.WaitFor(1));
  EXPECT_EQ(sleeper_.delays(),
            (std::vector<Millis>{Millis(250), Millis(500), Millis(1000), Millis(2000)}));
  EXPECT_EQ(informer_->stats().failures, 4);
}

TEST_F(InformerTest, StopCancelsAWatchInProgress) {
  std::atomic<int> watches{0};
  server_ = Serve([&](Exchange& ex) {
    if (!IsWatch(ex)) {
      ex.Reply(200, PodList("1", {}));
      return;
    }
    ++watches;
    HoldOpen(ex, done_);
  });
  StartInformer({.collection_path = kPods}, /*real_sleeper=*/true);
  ASSERT_TRUE(WaitUntil([&] { return watches.load() == 1; }));
  informer_->Stop();  // returns although the server keeps the watch open
  EXPECT_EQ(watches.load(), 1);
}

}  // namespace
}  // namespace axon::kube
