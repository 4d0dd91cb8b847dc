#include "operator/pod_status.h"

#include <gtest/gtest.h>

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;

// A replica pod as the API server serves it (the fields pod_status reads).
Json Pod(const std::string& name, int64_t version, Json status, Json extra_meta = Json::object()) {
  Json meta = {
      {"name", name},
      {"labels", {{"axon.dev/api", "echo"}, {"axon.dev/version", std::to_string(version)}}}};
  meta.update(extra_meta);
  return {{"metadata", meta}, {"status", status}};
}

Json Running(bool ready, int restarts = 0, Json last_state = Json::object()) {
  return {{"phase", "Running"},
          {"podIP", "10.244.0.7"},
          {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}},
          {"containerStatuses",
           {{{"name", "replica"},
             {"ready", ready},
             {"restartCount", restarts},
             {"state", {{"running", Json::object()}}},
             {"lastState", last_state}}}}};
}

Json Waiting(const std::string& reason, const std::string& message, int restarts,
             Json last_state = Json::object()) {
  return {{"phase", "Running"},
          {"podIP", "10.244.0.8"},
          {"conditions", {{{"type", "Ready"}, {"status", "False"}}}},
          {"containerStatuses",
           {{{"name", "replica"},
             {"restartCount", restarts},
             {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}},
             {"lastState", last_state}}}}};
}

Json LoadFailed(const std::string& message) {
  return {{"terminated", {{"reason", "Error"}, {"exitCode", 78}, {"message", message + "\n"}}}};
}

TEST(PodStatusTest, ReadyPodIsRoutedAtItsAddress) {
  const ReplicaStatus r = ReplicaFromPod(Pod("api-echo-1", 2, Running(true)), {.version = 2});
  EXPECT_EQ(r.id, "api-echo-1");
  EXPECT_EQ(r.state, ReplicaState::kReady);
  EXPECT_TRUE(r.current);
  EXPECT_EQ(r.host, "10.244.0.7");
  EXPECT_EQ(r.port, 8080);
}

TEST(PodStatusTest, AUsersServerIsRoutedAtItsContainersPort) {
  Json pod = Pod("api-own-1", 1, Running(true));
  pod["spec"] = {
      {"containers",
       {{{"name", "replica"}, {"ports", {{{"name", "http"}, {"containerPort", 9000}}}}}}}};
  EXPECT_EQ(ReplicaFromPod(pod, {.version = 1}).port, 9000);
  pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000;  // not a port: the default
  EXPECT_EQ(ReplicaFromPod(pod, {.version = 1}).port, 8080);
}

TEST(PodStatusTest, VersionAndRestartAnnotationDecideCurrent) {
  EXPECT_FALSE(ReplicaFromPod(Pod("a", 1, Running(true)), {.version = 2}).current);
  const Json refreshed =
      Pod("b", 2, Running(true), {{"annotations", {{kRestartedAtAnnotation, "5"}}}});
  EXPECT_TRUE(ReplicaFromPod(refreshed, {.version = 2, .restarted_at = "5"}).current);
  EXPECT_FALSE(ReplicaFromPod(refreshed, {.version = 2, .restarted_at = "6"}).current);
}

TEST(PodStatusTest, TerminatingPodIsStopping) {
  const Json pod = Pod("a", 1, Running(true), {{"deletionTimestamp", "2026-12-02T01:00:00Z"}});
  EXPECT_EQ(ReplicaFromPod(pod, {.version = 1}).state, ReplicaState::kStopping);
}

TEST(PodStatusTest, LoadErrorFromTerminationMessageIsTheApiError) {
  const Json pod =
      Pod("a", 1, Waiting("CrashLoopBackOff", "back-off 10s", 1, LoadFailed("ValueError: boom")));
  const ReplicaStatus r = ReplicaFromPod(pod, {.version = 1});
  EXPECT_EQ(r.state, ReplicaState::kWaitingRestart);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_NE(r.last_failure.find("ValueError: boom"), std::string::npos) << r.last_failure;
  const ApiObservation observed = ObservePods({pod}, {.version = 1});
  EXPECT_TRUE(observed.start_failing);
  EXPECT_NE(observed.error.find("ValueError: boom"), std::string::npos) << observed.error;
  EXPECT_NE(observed.error.find("exit code 78"), std::string::npos) << observed.error;
}

TEST(PodStatusTest, ImageThatCannotBePulledIsAnError) {
  const Json pod = Pod("a", 1, Waiting("ErrImageNeverPull", "image axon-replica:x not present", 0));
  const ApiObservation observed = ObservePods({pod}, {.version = 1});
  EXPECT_NE(observed.error.find("ErrImageNeverPull"), std::string::npos) << observed.error;
}

TEST(PodStatusTest, OneCrashIsNotYetAnError) {
  const Json crashed = {{"terminated", {{"reason", "Error"}, {"exitCode", 1}}}};
  const Json pod = Pod("a", 1, Waiting("CrashLoopBackOff", "back-off", 1, crashed));
  EXPECT_TRUE(ObservePods({pod}, {.version = 1, .crash_loop_threshold = 3}).error.empty());
  const Json looping = Pod("a", 1, Waiting("CrashLoopBackOff", "back-off", 3, crashed));
  EXPECT_FALSE(ObservePods({looping}, {.version = 1, .crash_loop_threshold = 3}).error.empty());
}

TEST(PodStatusTest, FailingNewVersionBesideReadyOldOneIsAnError) {
  const Json old_ready = Pod("old", 1, Running(true));
  const Json new_failing = Pod("new", 2, Waiting("CrashLoopBackOff", "", 1, LoadFailed("bad")));
  const ApiObservation observed = ObservePods({old_ready, new_failing}, {.version = 2});
  EXPECT_FALSE(observed.error.empty());
  EXPECT_EQ(observed.Outdated(), 1);
  // ...but not once a current replica serves.
  const Json new_ready = Pod("new2", 2, Running(true));
  EXPECT_TRUE(ObservePods({new_ready, new_failing}, {.version = 2}).error.empty());
}

TEST(PodStatusTest, UnschedulablePodSaysWhy) {
  const Json status = {{"phase", "Pending"},
                       {"conditions",
                        {{{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "Unschedulable"},
                          {"message", "0/1 nodes are available: 1 Insufficient cpu."}}}}};
  const ReplicaStatus r = ReplicaFromPod(Pod("a", 1, status), {.version = 1});
  EXPECT_EQ(r.state, ReplicaState::kStarting);
  EXPECT_NE(r.last_failure.find("Insufficient cpu"), std::string::npos);
}

}  // namespace
}  // namespace axon::operator_
