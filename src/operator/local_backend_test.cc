// LocalBackend's rollout, restart and timeout logic, with fake processes and a fake clock.
#include "operator/local_backend.h"

#include <gtest/gtest.h>

#include <set>

#include "common/files.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;

// Replica "processes" that exist only here: a test decides when each becomes ready or exits.
class FakeProcesses final : public ReplicaProcesses {
 public:
  struct Process {
    std::string id;
    bool ready = false;
    std::optional<std::string> exit;
    bool stopped = false;
    bool killed = false;
  };

  StatusOr<ReplicaHandle> Start(const ReplicaLaunch& launch) override {
    launches.push_back(launch);
    const pid_t pid = next_pid_++;
    processes[pid] = {launch.replica_id};
    started.push_back(launch.replica_id);
    return ReplicaHandle{pid, 1000 + static_cast<uint64_t>(pid), launch.state_dir, ""};
  }
  std::optional<std::string> CheckExited(const ReplicaHandle& r) override {
    return processes[r.pid].exit;
  }
  std::optional<uint16_t> Port(const ReplicaHandle& r) override {
    return static_cast<uint16_t>(r.pid);
  }
  std::string FailureReason(const ReplicaHandle&) override { return ""; }
  bool Ready(const ReplicaHandle& r, uint16_t) override { return processes[r.pid].ready; }
  void Stop(const ReplicaHandle& r) override {
    processes[r.pid].stopped = true;
    processes[r.pid].exit = "exit code 0";
  }
  void Kill(const ReplicaHandle& r) override {
    processes[r.pid].killed = true;
    processes[r.pid].exit = "killed by signal 9";
  }

  Process* ById(const std::string& id) {
    for (auto& [pid, p] : processes) {
      if (p.id == id && !p.exit) return &p;
    }
    return nullptr;
  }
  void MakeAllReady() {
    for (auto& [pid, p] : processes) p.ready = true;
  }
  void KeepStandbys(const std::vector<StandbySpec>& wanted, bool start_missing) override {
    standbys = wanted;
    standbys_may_start = start_missing;
  }

  std::map<pid_t, Process> processes;
  std::vector<std::string> started;
  std::vector<ReplicaLaunch> launches;
  std::vector<StandbySpec> standbys;  // as last asked for
  bool standbys_may_start = false;

 private:
  pid_t next_pid_ = 1000;
};

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.root = std::filesystem::temp_directory_path() / ("axon-local-" + RandomHex(6));
    store_ = std::move(StateStore::Open(home_.StateDb())).value();
    backend_ = std::make_unique<LocalBackend>(
        LocalBackendOptions{.home = home_, .drain = 1s, .ready_timeout = 60s}, processes_, *store_,
        clock_);
  }
  void TearDown() override { std::filesystem::remove_all(home_.root); }

  ApiTarget Target(int64_t replicas, int64_t revision = 1) {
    ApiTarget t{.api = "iris", .version = revision, .revision = revision, .replicas = replicas};
    t.spec.name = "iris";
    t.spec.update_strategy.max_surge = {1, false};
    t.spec.update_strategy.max_unavailable = {0, false};
    return t;
  }
  // One reconcile pass, with the route table "published".
  void Pass() {
    backend_->Reconcile();
    backend_->RoutesPublished(true);
    clock_.Advance(100ms);
  }
  int64_t Count(ReplicaState state, bool current = true) {
    const auto observed = backend_->Observe("iris");
    return std::count_if(
        observed.replicas.begin(), observed.replicas.end(),
        [&](const ReplicaStatus& r) { return r.state == state && r.current == current; });
  }

  AxonHome home_;
  FakeClock clock_;
  FakeProcesses processes_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<LocalBackend> backend_;
};

ApiTarget NativeTarget(const std::string& name, int64_t min_replicas, int64_t replicas) {
  ApiTarget t{.api = name, .version = 1, .revision = 1, .replicas = replicas};
  t.spec.name = name;
  t.spec.predictor.type = "torchscript";
  t.spec.autoscaling.min_replicas = min_replicas;
  return t;
}

// A standby is kept for each native runtime and environment of the APIs that can scale from
// zero; none is started while a replica starts; a replica's launch names its runtime and an
// environment equal to the standby's, so that the standby can become it.
TEST_F(LocalBackendTest, KeepsStandbysForNativeApisThatScaleFromZero) {
  backend_->Apply(Target(1));  // python, min_replicas 1: none
  backend_->Apply(NativeTarget("always", 1, 1));
  Pass();
  EXPECT_TRUE(processes_.standbys.empty());
  processes_.MakeAllReady();
  backend_->Apply(NativeTarget("mlp", 0, 0));
  backend_->Apply(NativeTarget("mlp2", 0, 0));  // the same runtime and environment: one standby
  Pass();
  ASSERT_EQ(processes_.standbys.size(), 1U);
  EXPECT_TRUE(processes_.standbys_may_start);
  const StandbySpec standby = processes_.standbys[0];
  EXPECT_EQ(standby.runtime, "torchscript");
  EXPECT_EQ(standby.env.at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(standby.env.at("AXON_HOME"), home_.root.string());
  EXPECT_FALSE(standby.env.contains("AXON_REPLICA_ID"));

  backend_->Apply(NativeTarget("mlp", 0, 1));  // a request came
  Pass();
  EXPECT_FALSE(processes_.standbys_may_start);  // its replica is starting
  const ReplicaLaunch& launch = processes_.launches.back();
  EXPECT_EQ(launch.api, "mlp");
  EXPECT_EQ(launch.runtime, "torchscript");
  EXPECT_EQ(launch.env, standby.env);
  EXPECT_EQ(launch.replica_env.at("AXON_REPLICA_ID"), launch.replica_id);
  EXPECT_EQ(launch.replica_env.at("AXON_API"), "mlp");
  processes_.MakeAllReady();
  Pass();
  EXPECT_TRUE(processes_.standbys_may_start);

  auto threads = NativeTarget("mlp2", 0, 0);
  threads.spec.predictor.intra_op_threads = 2;  // another environment: a second standby
  backend_->Apply(threads);
  Pass();
  ASSERT_EQ(processes_.standbys.size(), 2U);
  backend_->Remove("mlp");
  backend_->Remove("mlp2");
  Pass();
  EXPECT_TRUE(processes_.standbys.empty());
}

TEST_F(LocalBackendTest, NoStandbysWhenTurnedOffOrStopped) {
  backend_->Apply(NativeTarget("mlp", 0, 0));
  Pass();
  EXPECT_EQ(processes_.standbys.size(), 1U);
  backend_->StopAll();
  EXPECT_TRUE(processes_.standbys.empty());

  LocalBackend off(LocalBackendOptions{.home = home_, .standby = false}, processes_, *store_,
                   clock_);
  off.Apply(NativeTarget("mlp", 0, 0));
  off.Reconcile();
  EXPECT_TRUE(processes_.standbys.empty());
}

TEST_F(LocalBackendTest, StartsReplicasAndRoutesThemOnceReady) {
  backend_->Apply(Target(2));
  Pass();
  EXPECT_EQ(Count(ReplicaState::kStarting), 2);
  processes_.MakeAllReady();
  Pass();
  EXPECT_EQ(Count(ReplicaState::kReady), 2);
  EXPECT_EQ(backend_->Observe("iris").ReadyCurrent(), 2);
  EXPECT_TRUE(backend_->Observe("iris").error.empty());
  EXPECT_EQ(store_->Replicas()->size(), 2U);  // saved for a restarted operator
}

// Starting() tells the reconcile loop to tick fast: while a replica has started and is not
// ready, and not once it is ready, has stopped, or was killed for taking too long.
TEST_F(LocalBackendTest, StartingHoldsWhileAReplicaLoads) {
  EXPECT_FALSE(backend_->Starting());
  backend_->Apply(Target(1));
  EXPECT_FALSE(backend_->Starting());  // nothing started before the pass
  Pass();
  EXPECT_TRUE(backend_->Starting());
  Pass();
  EXPECT_TRUE(backend_->Starting());  // still loading
  processes_.MakeAllReady();
  Pass();
  EXPECT_FALSE(backend_->Starting());

  backend_->Apply(Target(2));
  Pass();
  EXPECT_TRUE(backend_->Starting());
  clock_.Advance(61s);
  Pass();  // the new one timed out: killed, no longer worth probing
  EXPECT_FALSE(backend_->Starting());
  backend_->Apply(Target(0));
  Pass();
  EXPECT_FALSE(backend_->Starting());
}

// A replica whose predictor hangs while loading is replaced after ready_timeout, and the
// reason is shown.
TEST_F(LocalBackendTest, AReplicaNotReadyInTimeIsReplaced) {
  backend_->Apply(Target(1));
  Pass();
  const std::string first = processes_.started.at(0);
  clock_.Advance(59s);
  Pass();
  EXPECT_FALSE(processes_.ById(first)->killed);
  clock_.Advance(2s);
  Pass();  // killed
  Pass();  // reaped: waiting to restart, with the reason
  const auto observed = backend_->Observe("iris");
  ASSERT_EQ(observed.replicas.size(), 1U);
  EXPECT_EQ(observed.replicas[0].state, ReplicaState::kWaitingRestart);
  EXPECT_NE(observed.replicas[0].last_failure.find("did not become ready within 60 s"),
            std::string::npos)
      << observed.replicas[0].last_failure;
  clock_.Advance(1s);  // the first backoff
  Pass();
  EXPECT_EQ(processes_.started.size(), 2U);
  EXPECT_EQ(processes_.started[1], first);  // the slot keeps its id, like a pod
}

TEST_F(LocalBackendTest, CrashLoopsBackOffAndSetTheError) {
  backend_->Apply(Target(1));
  for (int failure = 1; failure <= 3; ++failure) {
    Pass();
    for (auto& [pid, p] : processes_.processes) {
      if (!p.exit) p.exit = "exit code 1";
    }
    Pass();
    EXPECT_EQ(Count(ReplicaState::kWaitingRestart), 1);
    clock_.Advance(std::chrono::milliseconds(500 << (failure - 1)));
  }
  EXPECT_NE(backend_->Observe("iris").error.find("exited (exit code 1) before becoming ready"),
            std::string::npos);
  EXPECT_TRUE(backend_->Observe("iris").start_failing);  // the gateway need not wait
  EXPECT_EQ(processes_.started.size(), 3U);
}

// `axon deploy` reads the status right after a deploy: an error of the revision being replaced
// must not show as the new revision's.
TEST_F(LocalBackendTest, ANewRevisionDoesNotInheritTheOldOnesError) {
  backend_->Apply(Target(1));
  for (int failure = 1; failure <= 3; ++failure) {
    Pass();
    for (auto& [pid, p] : processes_.processes) {
      if (!p.exit) p.exit = "exit code 1";
    }
    Pass();
    clock_.Advance(std::chrono::milliseconds(500 << (failure - 1)));
  }
  ASSERT_FALSE(backend_->Observe("iris").error.empty());
  backend_->Apply(Target(1, /*revision=*/2));  // no reconcile pass yet
  EXPECT_EQ(backend_->Observe("iris").error, "");
  EXPECT_FALSE(backend_->Observe("iris").start_failing);
}

// Replicas that get ready and are then killed, again and again, are an error too, but one the
// gateway waits through: they come back.
TEST_F(LocalBackendTest, AReadyReplicaKilledAgainAndAgainIsNotAStartFailure) {
  backend_->Apply(Target(1));
  for (int kill = 1; kill <= 3; ++kill) {
    Pass();
    processes_.MakeAllReady();
    Pass();
    ASSERT_EQ(Count(ReplicaState::kReady), 1);
    for (auto& [pid, p] : processes_.processes) {
      if (!p.exit) p.exit = "killed by signal 9";
    }
    Pass();
    clock_.Advance(std::chrono::milliseconds(500 << (kill - 1)));
  }
  const auto observed = backend_->Observe("iris");
  EXPECT_NE(observed.error.find("replica crashed (killed by signal 9)"), std::string::npos);
  EXPECT_FALSE(observed.start_failing);
}

// Regression: ids were "<api>-<n>" counted per API, so a replica of a redeployed API could
// share its run folder with a draining replica of the deleted one.
TEST_F(LocalBackendTest, ReplicaIdsAreNotReusedAcrossDeleteAndRedeploy) {
  backend_->Apply(Target(2));
  Pass();
  backend_->Remove("iris");
  backend_->Apply(Target(2));
  Pass();
  const std::set<std::string> ids(processes_.started.begin(), processes_.started.end());
  EXPECT_EQ(ids.size(), 4U);
  for (const auto& id : ids) EXPECT_EQ(id.rfind("iris-", 0), 0U) << id;
}

TEST_F(LocalBackendTest, RollsANewRevisionOutWithoutGoingBelowDesired) {
  backend_->Apply(Target(2, 1));
  Pass();
  processes_.MakeAllReady();
  Pass();
  backend_->Apply(Target(2, 2));
  Pass();  // max_surge 1: one new replica, both old ones stay
  EXPECT_EQ(Count(ReplicaState::kReady, /*current=*/false), 2);
  EXPECT_EQ(Count(ReplicaState::kStarting), 1);
  processes_.MakeAllReady();
  Pass();  // the new one is ready: one old one goes, the second new one starts
  Pass();
  processes_.MakeAllReady();
  Pass();
  Pass();
  EXPECT_EQ(Count(ReplicaState::kReady), 2);
  EXPECT_EQ(Count(ReplicaState::kReady, /*current=*/false), 0);
  int stopped = 0;
  for (const auto& [pid, p] : processes_.processes) stopped += p.stopped;
  EXPECT_EQ(stopped, 2);  // the old ones were asked to drain, not killed
}

// Stopping waits until the gateway no longer routes to the replica.
TEST_F(LocalBackendTest, AScaledDownReplicaIsStoppedOnlyOnceRoutesArePublished) {
  backend_->Apply(Target(2));
  Pass();
  processes_.MakeAllReady();
  Pass();
  backend_->Apply(Target(1));
  backend_->Reconcile();
  EXPECT_EQ(Count(ReplicaState::kStopping, false) + Count(ReplicaState::kStopping, true), 1);
  int stopped = 0;
  for (const auto& [pid, p] : processes_.processes) stopped += p.stopped;
  EXPECT_EQ(stopped, 0);
  backend_->RoutesPublished(true);
  for (const auto& [pid, p] : processes_.processes) stopped += p.stopped;
  EXPECT_EQ(stopped, 1);
}

}  // namespace
}  // namespace axon::operator_
