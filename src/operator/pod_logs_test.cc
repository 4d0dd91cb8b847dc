// MergePodLogs (pure: ordering across pods, tail, since, replica, the cursor, lines without a
// stamp, truncated pods) and PodLogs against FakeApiServer, a scripted fake of kube-apiserver:
// the pod list, one log call per pod, a pod that is not started yet, a refused list.
#include "operator/pod_logs.h"

#include <gtest/gtest.h>

#include <map>

#include "http/url.h"
#include "kube/testing/fake_api_server.h"

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;
using kube::testing::Exchange;
using kube::testing::FakeApiServer;

// 2026-12-02T07:49:SS.000000NNNZ as Unix ns.
constexpr int64_t kMinute = 1'796'197'740'000'000'000;  // 2026-12-02T07:49:00Z
int64_t At(int second, int64_t ns = 0) { return kMinute + second * 1'000'000'000LL + ns; }

LogQuery Query(const std::string& query) { return ParseLogQuery(query); }

TEST(MergePodLogs, OrdersLinesOfAllPodsByTheKubeletsStamp) {
  const std::vector<PodLogText> pods = {
      {"echo-a", "2026-12-02T07:49:01.5Z a1\n2026-12-02T07:49:03Z a2\n"},
      {"echo-b", "2026-12-02T07:49:02.000000001Z b1\n2026-12-02T07:49:04.25Z b2\n"}};
  const Json answer = MergePodLogs(pods, Query("tail=100"));
  EXPECT_EQ(answer["text"], "a1\nb1\na2\nb2\n");
  EXPECT_EQ(answer["next"], "after_ns=" + std::to_string(At(4, 250'000'000)));
  EXPECT_EQ(answer["more"], false);
}

TEST(MergePodLogs, TailCountsLinesOverAllPods) {
  const std::vector<PodLogText> pods = {
      {"echo-a", "2026-12-02T07:49:01Z a1\n2026-12-02T07:49:03Z a2\n"},
      {"echo-b", "2026-12-02T07:49:02Z b1\n2026-12-02T07:49:04Z b2\n"}};
  EXPECT_EQ(MergePodLogs(pods, Query("tail=3"))["text"], "b1\na2\nb2\n");
  // No lines, but the cursor is past every line read: a follower gets only newer ones.
  const Json none = MergePodLogs(pods, Query("tail=0"));
  EXPECT_EQ(none["text"], "");
  EXPECT_EQ(none["next"], "after_ns=" + std::to_string(At(4)));
  // Every line (from=start) is not a tail.
  EXPECT_EQ(MergePodLogs(pods, Query("from=start&tail=1"))["text"], "a1\nb1\na2\nb2\n");
}

TEST(MergePodLogs, SinceAndReplicaFilter) {
  const std::vector<PodLogText> pods = {
      {"echo-a", "2026-12-02T07:49:01Z a1\n2026-12-02T07:49:03Z a2\n"},
      {"echo-b", "2026-12-02T07:49:02Z b1\n2026-12-02T07:49:04Z b2\n"}};
  const int64_t since_ms = At(2) / 1'000'000;
  EXPECT_EQ(MergePodLogs(pods, Query("from=start&since_ms=" + std::to_string(since_ms)))["text"],
            "b1\na2\nb2\n");
  const Json b = MergePodLogs(pods, Query("tail=100&replica=echo-b"));
  EXPECT_EQ(b["text"], "b1\nb2\n");
  EXPECT_EQ(b["next"], "after_ns=" + std::to_string(At(4)));
  const Json a = MergePodLogs(pods, Query("tail=100&replica=echo-a"));
  EXPECT_EQ(a["next"], "after_ns=" + std::to_string(At(3)));
  EXPECT_EQ(MergePodLogs(pods, Query("replica=echo-c"))["text"], "");
}

TEST(MergePodLogs, TheCursorGivesOnlyNewerLines) {
  std::vector<PodLogText> pods = {{"echo-a", "2026-12-02T07:49:01Z a1\n"}};
  const Json first = MergePodLogs(pods, Query("tail=100"));
  EXPECT_EQ(first["text"], "a1\n");
  // The kubelet's sinceTime is in ms: the next read gives the last line again, and more.
  pods = {{"echo-a", "2026-12-02T07:49:01Z a1\n2026-12-02T07:49:01.000000001Z a2\n"},
          {"echo-b", "2026-12-02T07:49:00Z b0\n2026-12-02T07:49:05Z b1\n"}};
  const Json next = MergePodLogs(pods, Query(first["next"].get<std::string>() + "&tail=1"));
  EXPECT_EQ(next["text"], "a2\nb1\n");  // the tail counts only without a cursor
  EXPECT_EQ(next["next"], "after_ns=" + std::to_string(At(5)));
  // Nothing new: the cursor stays.
  const Json same = MergePodLogs(pods, Query(next["next"].get<std::string>()));
  EXPECT_EQ(same["text"], "");
  EXPECT_EQ(same["next"], next["next"]);
  // Nothing read at all, and no cursor yet: every line from now on.
  EXPECT_EQ(MergePodLogs({}, Query("tail=10"))["next"], "from=start");
}

TEST(MergePodLogs, LinesWithoutAStampStayAfterTheLineBefore) {
  const std::vector<PodLogText> pods = {
      {"echo-a", "no stamp first\n2026-12-02T07:49:01Z a1\n  at frame 1\nnot-a-time a2\n"},
      {"echo-b", "2026-12-02T07:49:00.5Z b1\n2026-12-02T07:49:02Z b2"}};  // no final '\n'
  EXPECT_EQ(MergePodLogs(pods, Query("tail=100"))["text"],
            "no stamp first\nb1\na1\n  at frame 1\nnot-a-time a2\nb2\n");
  EXPECT_EQ(MergePodLogs(pods, Query("tail=2"))["text"], "not-a-time a2\nb2\n");
}

TEST(MergePodLogs, TheKubeletsNoteOnAGoneContainerIsNotALine) {
  // What the kubelet answered, seen on the test cluster, for pods terminating after a rollout.
  const std::vector<PodLogText> pods = {
      {"echo-old", "unable to retrieve container logs for containerd://beceb831e07f\n"},
      {"echo-new", "2026-12-02T07:49:01Z ready\n"}};
  EXPECT_EQ(MergePodLogs(pods, Query("tail=100"))["text"], "ready\n");
}

TEST(MergePodLogs, ATruncatedPodHoldsTheOthersBackUntilItsRestIsRead) {
  const std::vector<PodLogText> pods = {
      {"echo-a", "2026-12-02T07:49:01Z a1\n2026-12-02T07:49:03Z a2\n2026-12-02T07:49:0", true},
      {"echo-b", "2026-12-02T07:49:02Z b1\n2026-12-02T07:49:04Z b2\n"}};
  const Json answer = MergePodLogs(pods, Query("from=start"));
  EXPECT_EQ(answer["text"], "a1\nb1\na2\n");
  EXPECT_EQ(answer["next"], "after_ns=" + std::to_string(At(3)));
  EXPECT_EQ(answer["more"], true);
  // A truncated pod with nothing after the cursor does not hold the others back.
  const Json stuck = MergePodLogs(pods, Query("after_ns=" + std::to_string(At(3))));
  EXPECT_EQ(stuck["text"], "b2\n");
  EXPECT_EQ(stuck["more"], false);
}

// PodLogs against the fake API server: pods echo-a (lines), echo-b (not started yet: 400) and
// echo-c (lines); a list of another API's pods is refused.
class PodLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = FakeApiServer::Start({}, [](Exchange& ex) { Answer(ex); });
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    kube::Credentials c;
    c.server = *kube::ParseServerUrl(server_->url());
    client_ = std::move(kube::Client::New(c)).value();
    logs_ = std::make_unique<PodLogs>(PodLogsOptions{.ns = "axon", .limit_bytes = 4096}, *client_);
  }
  void TearDown() override {
    logs_.reset();
    if (server_) server_->Stop();
  }
  static Json Pod(const std::string& name) {
    return {{"metadata", {{"name", name}, {"namespace", "axon"}}}};
  }
  static void Answer(Exchange& ex) {
    const std::string& target = ex.request().target;
    const std::string path = target.substr(0, target.find('?'));
    if (path == "/api/v1/namespaces/axon/pods") {
      if (Params(target)["labelSelector"].find("axon.dev/api=refused") != std::string::npos) {
        ex.ReplyStatus(403, "Forbidden", "pods is forbidden: User \"op\" cannot list pods");
        return;
      }
      ex.Reply(200, {{"kind", "PodList"},
                     {"metadata", {{"resourceVersion", "7"}}},
                     {"items", {Pod("echo-c"), Pod("echo-b"), Pod("echo-a")}}});
    } else if (path == "/api/v1/namespaces/axon/pods/echo-b/log") {
      ex.ReplyStatus(400, "BadRequest",
                     "container \"replica\" in pod \"echo-b\" is waiting to start: "
                     "ContainerCreating");
    } else if (path == "/api/v1/namespaces/axon/pods/echo-a/log") {
      ex.StartChunked();
      ex.Chunk("2026-12-02T07:49:01Z {\"message\":\"a1\"}\n2026-12-02T07:49:03Z a2\n");
      ex.End();
    } else if (path == "/api/v1/namespaces/axon/pods/echo-c/log") {
      ex.StartChunked();
      ex.Chunk("2026-12-02T07:49:02Z c1\n");
      ex.End();
    } else {
      ex.ReplyStatus(404, "NotFound", "no " + path);
    }
  }
  static std::map<std::string, std::string> Params(const std::string& target) {
    const size_t q = target.find('?');
    std::map<std::string, std::string> out;
    if (q == std::string::npos) return out;
    for (auto& [k, v] : http::ParseQuery(std::string_view(target).substr(q + 1))) out[k] = v;
    return out;
  }

  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<PodLogs> logs_;
};

TEST_F(PodLogsTest, ListsTheApisReplicaPodsAndReadsEachOnesLog) {
  auto answer = logs_->Read("echo", Query("tail=10&since_ms=1796197740000"));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ((*answer)["text"], "{\"message\":\"a1\"}\nc1\na2\n");  // echo-b is skipped
  EXPECT_EQ((*answer)["next"], "after_ns=" + std::to_string(At(3)));

  const auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(Params(requests[0].target)["labelSelector"],
            "app.kubernetes.io/component=replica,app.kubernetes.io/part-of=axon,"
            "axon.dev/api=echo");
  std::vector<std::string> pods;
  for (size_t i = 1; i < requests.size(); ++i) {
    const std::string& target = requests[i].target;
    EXPECT_EQ(requests[i].method, "GET");
    pods.push_back(target.substr(0, target.find('?')));
    auto params = Params(target);
    EXPECT_EQ(params["container"], "replica");
    EXPECT_EQ(params["timestamps"], "true");
    EXPECT_EQ(params["tailLines"], "10");
    EXPECT_EQ(params["limitBytes"], "4096");
    EXPECT_EQ(params["sinceTime"], "2026-12-02T07:49:00.000Z");
  }
  EXPECT_EQ(pods, (std::vector<std::string>{"/api/v1/namespaces/axon/pods/echo-a/log",
                                            "/api/v1/namespaces/axon/pods/echo-b/log",
                                            "/api/v1/namespaces/axon/pods/echo-c/log"}));
}

TEST_F(PodLogsTest, FollowsFromTheCursorAndReadsOnlyTheReplicaAsked) {
  auto answer = logs_->Read("echo", Query("after_ns=" + std::to_string(At(1)) + "&replica=echo-a"));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ((*answer)["text"], "a2\n");
  const auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);  // the list, then echo-a's log only
  auto params = Params(requests[1].target);
  EXPECT_EQ(params.count("tailLines"), 0u);
  EXPECT_EQ(params["sinceTime"], "2026-12-02T07:49:01.000Z");
}

TEST_F(PodLogsTest, ARefusedListIsUnavailableWithTheServersMessage) {
  auto answer = logs_->Read("refused", Query("tail=10"));
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(answer.status().message().find("cannot list pods"), std::string::npos)
      << answer.status().message();
}

TEST_F(PodLogsTest, JobsDoNotRunOnKubernetes) {
  auto answer = logs_->Read("batch", Query("job=0123456789abcdef"));
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.status().message().find("jobs do not run on Kubernetes"), std::string::npos);
  EXPECT_TRUE(server_->requests().empty());
}

}  // namespace
}  // namespace axon::operator_
