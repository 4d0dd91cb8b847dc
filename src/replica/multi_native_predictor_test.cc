// MultiNativePredictor with the real XGBoost runtime (build/lib/axon/libaxon_xgboost.so): two
// boosters built at run time by /usr/bin/python3, which also writes what its own runtime
// predicts; the replica's answers must match, and cache_size 1 keeps one model loaded.
#include "replica/multi_native_predictor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace axon::replica {
namespace {

namespace fs = std::filesystem;

constexpr char kBuild[] = R"(
import json, sys
import numpy as np, xgboost
root = sys.argv[1]
x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
expected = {}
for name, seed in (("a", 1), ("b", 2)):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((100, 3)).astype(np.float32)
    booster = xgboost.train({"max_depth": 2, "seed": seed},
                            xgboost.DMatrix(data, label=data @ rng.standard_normal(3)),
                            num_boost_round=5)
    folder = f"{root}/models/{name}/1"
    __import__("os").makedirs(folder)
    booster.save_model(f"{folder}/model.json")
    expected[name] = booster.predict(xgboost.DMatrix(x)).tolist()
json.dump({"x": x.tolist(), "expected": expected}, open(f"{root}/expected.json", "w"))
)";

TEST(MultiNativePredictorTest, ServesRealXGBoostModelsByName) {
  const fs::path root = fs::temp_directory_path() / ("axon-multi-xgb-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  std::ofstream(root / "build.py") << kBuild;
  const std::string command =
      "/usr/bin/python3 " + (root / "build.py").string() + " " + root.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const nlohmann::json built = nlohmann::json::parse(std::ifstream(root / "expected.json"));

  spec::ModelSpec model{.type = "xgboost"};
  auto cache = std::make_unique<NativeModelCache>(
      spec::MultiModelSpec{.dir = (root / "models").string(), .cache_size = 1},
      NativeLoader(model, 1, 1), "replica-1");
  NativeModelCache* view = cache.get();
  MultiNativePredictor predictor("xgboost", std::move(cache));
  const std::string body = nlohmann::json{{"instances", built["x"]}}.dump();
  for (const char* name : {"a", "b", "a"}) {
    PredictRequest request;
    request.body = body;
    request.query_params.emplace_back("model", name);
    const PredictResponse response = predictor.Predict(request);
    ASSERT_EQ(response.status, 200) << response.error.value_or(response.body);
    const auto got = nlohmann::json::parse(response.body)["predictions"];
    const auto& want = built["expected"][name];
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i].get<double>(), want[i].get<double>(), 1e-5) << name << " row " << i;
    }
    const nlohmann::json loaded = view->Describe()["loaded"];
    ASSERT_EQ(loaded.size(), 1u);  // cache_size 1: the other model was evicted
    EXPECT_EQ(loaded[0]["name"], name);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace axon::replica
