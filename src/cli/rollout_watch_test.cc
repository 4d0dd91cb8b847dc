#include "cli/rollout_watch.h"

#include <gtest/gtest.h>

namespace axon::cli {
namespace {

nlohmann::json Api(const std::string& name, const std::string& status, int64_t ready,
                   int64_t requested, const std::string& reason = "") {
  return {{"name", name},        {"kind", "RealtimeAPI"},  {"status", status},
          {"up_to_date", ready}, {"requested", requested}, {"reason", reason}};
}

TEST(RolloutTest, LinesSayReadyWantedAndStatus) {
  std::vector<RolloutState> states = {{.api = "iris"}, {.api = "mlp"}};
  EXPECT_EQ(RolloutLine(states[0]), "iris: waiting for the operator");
  UpdateRollout(nlohmann::json::array({Api("iris", "updating", 1, 2), Api("mlp", "live", 1, 1)}),
                states);
  EXPECT_EQ(RolloutLine(states[0]), "iris: 1/2 ready, updating");
  EXPECT_FALSE(states[0].Done());
  EXPECT_EQ(RolloutLine(states[1]), "mlp: 1/1 ready, live");
  EXPECT_TRUE(states[1].Done());
}

TEST(RolloutTest, AFailureKeepsItsReasonAndStaysFailed) {
  std::vector<RolloutState> states = {{.api = "iris"}};
  UpdateRollout(nlohmann::json::array(
                    {Api("iris", "error", 0, 1, "PythonPredictor.__init__ raised ValueError")}),
                states);
  EXPECT_EQ(RolloutLine(states[0]), "iris: error: PythonPredictor.__init__ raised ValueError");
  EXPECT_TRUE(states[0].Done());
  // A later answer (the replica retried with backoff) does not hide the failure.
  UpdateRollout(nlohmann::json::array({Api("iris", "updating", 0, 1)}), states);
  EXPECT_EQ(states[0].status, "error");
}

TEST(RolloutTest, ADeletedApiFails) {
  std::vector<RolloutState> states = {{.api = "gone"}};
  UpdateRollout(nlohmann::json::array(), states);
  EXPECT_EQ(RolloutLine(states[0]), "gone: error: the API was deleted while it rolled out");
}

TEST(RolloutTest, SplittersShowTheirStatusOnly) {
  std::vector<RolloutState> states = {{.api = "split"}};
  auto splitter = Api("split", "live", 0, 0);
  splitter["kind"] = "TrafficSplitter";
  UpdateRollout(nlohmann::json::array({splitter}), states);
  EXPECT_EQ(RolloutLine(states[0]), "split: live");
}

}  // namespace
}  // namespace axon::cli
