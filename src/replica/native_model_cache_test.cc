// NativeModelCache and MultiNativePredictor over real folders of models whose "runtime" is a
// stand-in: a model file holds a number, the model multiplies its input by it. The loads are
// counted, so the tests see what was loaded when, and what the cache kept.
#include "replica/native_model_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "replica/multi_native_predictor.h"

namespace axon::replica {
namespace {

namespace fs = std::filesystem;

class ScaleModel final : public Model {
 public:
  explicit ScaleModel(float scale) : scale_(scale) {
    signature_.inputs.push_back({"x", tensor::DType::kFloat32, {-1, 1}});
    signature_.outputs.push_back({"y", tensor::DType::kFloat32, {-1, 1}});
  }
  const tensor::Signature& signature() const override { return signature_; }
  StatusOr<std::vector<tensor::Tensor>> Run(const std::vector<tensor::Tensor>& inputs) override {
    tensor::Tensor out = inputs[0];
    out.name = "y";
    for (float& v : out.values<float>()) v *= scale_;
    return std::vector<tensor::Tensor>{std::move(out)};
  }

 private:
  float scale_;
  tensor::Signature signature_;
};

class NativeModelCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("axon-native-cache-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "models");
  }
  void TearDown() override { fs::remove_all(root_); }

  // models/<name>/<version>/model.txt (version 0: models/<name>/model.txt) holding `scale`.
  void Write(const std::string& name, int64_t version, float scale) {
    fs::path folder = root_ / "models" / name;
    if (version > 0) folder /= std::to_string(version);
    fs::create_directories(folder);
    std::ofstream(folder / "model.txt") << scale;
  }

  std::unique_ptr<NativeModelCache> Cache(int64_t cache_size) {
    spec::MultiModelSpec spec{.dir = (root_ / "models").string(), .cache_size = cache_size};
    return std::make_unique<NativeModelCache>(
        spec,
        [this](const std::string& name, int64_t version,
               const fs::path& path) -> StatusOr<std::shared_ptr<const LoadedModel>> {
          loads_.push_back(name + " " + std::to_string(version));
          fs::path file = fs::is_directory(path) ? path / "model.txt" : path;
          std::ifstream in(file);
          float scale = 0;
          if (!(in >> scale)) return InvalidArgument("no number in " + file.string());
          auto model = std::make_shared<LoadedModel>();
          model->model = std::make_unique<ScaleModel>(scale);
          model->file = {file, version};
          model->type = "scale";
          return std::shared_ptr<const LoadedModel>(std::move(model));
        },
        "replica-1");
  }

  static std::vector<std::pair<std::string, int64_t>> Loaded(const NativeModelCache& cache) {
    std::vector<std::pair<std::string, int64_t>> out;
    const nlohmann::json described = cache.Describe();
    for (const auto& entry : described["loaded"]) {
      out.emplace_back(entry["name"].get<std::string>(), entry["version"].get<int64_t>());
    }
    return out;
  }

  fs::path root_;
  std::vector<std::string> loads_;  // the loader's calls, in order
};

using Loads = std::vector<std::string>;
using LoadedList = std::vector<std::pair<std::string, int64_t>>;

TEST_F(NativeModelCacheTest, KeepsTheLeastRecentlyUsedOrderAndEvictsItsHead) {
  Write("a", 1, 1);
  Write("b", 1, 2);
  Write("c", 0, 3);
  auto cache = Cache(2);
  EXPECT_TRUE(Loaded(*cache).empty());  // nothing loads before it is asked for
  ASSERT_TRUE(cache->Get("a", "").ok());
  ASSERT_TRUE(cache->Get("b", "").ok());
  ASSERT_TRUE(cache->Get("a", "").ok());  // a is now the most recently used
  EXPECT_EQ(Loaded(*cache), (LoadedList{{"b", 1}, {"a", 1}}));
  auto c = cache->Get("c", "");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ((*c)->file.version, 0);
  EXPECT_EQ(Loaded(*cache), (LoadedList{{"a", 1}, {"c", 0}}));  // b left
  ASSERT_TRUE(cache->Get("b", "").ok());                        // loaded again; a leaves
  EXPECT_EQ(Loaded(*cache), (LoadedList{{"c", 0}, {"b", 1}}));
  EXPECT_EQ(loads_, (Loads{"a 1", "b 1", "c 0", "b 1"}));
  const nlohmann::json described = cache->Describe();
  EXPECT_EQ(described["cache_size"], 2);
  EXPECT_EQ(described["replica"], "replica-1");
  ASSERT_EQ(described["models"].size(), 3u);
  EXPECT_EQ(described["models"][2], (nlohmann::json{{"name", "c"},
                                                    {"versions", nlohmann::json::array()},
                                                    {"latest", 0},
                                                    {"loaded", nlohmann::json::array({0})}}));
}

TEST_F(NativeModelCacheTest, NoCacheSizeKeepsEveryModelOnceUsed) {
  Write("a", 1, 1);
  Write("b", 1, 2);
  Write("c", 1, 3);
  auto cache = Cache(0);
  for (const char* name : {"a", "b", "c", "a"}) ASSERT_TRUE(cache->Get(name, "").ok());
  EXPECT_EQ(Loaded(*cache).size(), 3u);
  EXPECT_EQ(loads_.size(), 3u);
}

TEST_F(NativeModelCacheTest, PicksModelsAndVersionsOrSaysWhyNot) {
  Write("a", 1, 1);
  Write("a", 2, 2);
  Write("b", 1, 5);
  auto cache = Cache(0);
  auto latest = cache->Get("a", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->file.version, 2);
  EXPECT_EQ((*cache->Get("a", "latest"))->file.version, 2);
  EXPECT_EQ((*cache->Get("a", "1"))->file.version, 1);

  auto unknown = cache->Get("nope", "");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "no model named \"nope\"; this API serves: a, b");
  auto unnamed = cache->Get("", "");
  EXPECT_EQ(unnamed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unnamed.status().message(),
            "name a model: this API serves several (a, b); ask for one with ?model=NAME");
  auto missing = cache->Get("a", "9");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "model \"a\" has no version 9; versions: 1, 2");
  for (const char* bad : {"x", "0", "-1", "1.5"}) {
    auto malformed = cache->Get("a", bad);
    EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(malformed.status().message().find("a model version is a whole number >= 1"),
              std::string::npos);
  }
  fs::remove_all(root_ / "models" / "b");
  cache->Refresh();
  EXPECT_TRUE(cache->Get("", "").ok());  // one model left: the name may be left out
}

TEST_F(NativeModelCacheTest, AFailedLoadIsAnErrorAndIsTriedAgain) {
  fs::create_directories(root_ / "models" / "a" / "1");
  std::ofstream(root_ / "models" / "a" / "1" / "model.txt") << "not a number";
  auto cache = Cache(0);
  auto failed = cache->Get("a", "");
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_NE(failed.status().message().find("loading model \"a\" version 1 failed"),
            std::string::npos)
      << failed.status().message();
  Write("a", 1, 4);
  EXPECT_TRUE(cache->Get("a", "").ok());
  EXPECT_EQ(loads_, (Loads{"a 1", "a 1"}));
}

TEST_F(NativeModelCacheTest, ANewVersionOfALoadedModelIsLoadedBeforeItIsServed) {
  Write("a", 1, 1);
  Write("b", 1, 2);
  auto cache = Cache(0);
  auto v1 = cache->Get("a", "");
  ASSERT_TRUE(v1.ok());
  Write("a", 2, 10);
  cache->Refresh();  // seen once: not taken yet (it may still be being written)
  EXPECT_EQ((*cache->Get("a", ""))->file.version, 1);
  EXPECT_EQ(cache->Get("a", "2").status().code(), StatusCode::kNotFound);
  cache->Refresh();  // unchanged since: loaded here, then served, and version 1 leaves
  EXPECT_EQ(loads_, (Loads{"a 1", "a 2"}));
  EXPECT_EQ(Loaded(*cache), (LoadedList{{"a", 2}}));
  auto v2 = cache->Get("a", "");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->file.version, 2);
  EXPECT_EQ(loads_.size(), 2u);                         // the request did not load it
  EXPECT_EQ((*v1)->file.version, 1);                    // a holder of the old version keeps it
  EXPECT_EQ((*cache->Get("a", "1"))->file.version, 1);  // still there when asked for

  // A model that is not loaded takes the new version at its next request.
  Write("b", 2, 20);
  cache->Refresh();
  cache->Refresh();
  EXPECT_EQ(loads_.size(), 3u);
  EXPECT_EQ((*cache->Get("b", ""))->file.version, 2);

  // A removed version leaves; the highest left is served again.
  fs::remove_all(root_ / "models" / "a" / "2");
  cache->Refresh();
  EXPECT_EQ((*cache->Get("a", ""))->file.version, 1);
  EXPECT_EQ(cache->Get("a", "2").status().code(), StatusCode::kNotFound);
}

TEST_F(NativeModelCacheTest, ANewFolderInDirBecomesAModel) {
  Write("a", 1, 1);
  auto cache = Cache(0);
  Write("late", 1, 7);
  cache->Refresh();
  EXPECT_EQ(cache->Get("late", "").status().code(), StatusCode::kNotFound);
  cache->Refresh();
  EXPECT_TRUE(cache->Get("late", "").ok());
}

PredictRequest Request(std::string_view body, std::string model, std::string version = "") {
  PredictRequest request;
  request.body = body;
  if (!model.empty()) request.query_params.emplace_back("model", std::move(model));
  if (!version.empty()) request.query_params.emplace_back("version", std::move(version));
  return request;
}

TEST_F(NativeModelCacheTest, ThePredictorAnswersWithTheModelTheRequestNames) {
  Write("a", 1, 2);
  Write("a", 2, 3);
  Write("b", 1, 10);
  MultiNativePredictor predictor("scale", Cache(1));
  const std::string body = R"({"instances": [[1.5]]})";
  EXPECT_EQ(predictor.Predict(Request(body, "a")).body, R"({"predictions":[[4.5]]})");
  EXPECT_EQ(predictor.Predict(Request(body, "a", "1")).body, R"({"predictions":[[3]]})");
  EXPECT_EQ(predictor.Predict(Request(body, "b")).body, R"({"predictions":[[15]]})");
  const PredictResponse unknown = predictor.Predict(Request(body, "zzz"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error, "no model named \"zzz\"; this API serves: a, b");
  EXPECT_EQ(predictor.Predict(Request(body, "")).status, 400);

  // A batch of requests for two models: each answered by its own.
  const PredictRequest first = Request(body, "a");
  const PredictRequest second = Request(body, "b");
  const PredictRequest third = Request(R"({"instances": [[2.0]]})", "a");
  const PredictRequest fourth = Request(body, "nope");
  const PredictRequest* batch[] = {&first, &second, &third, &fourth};
  const auto answers = predictor.PredictBatch(batch);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0].body, R"({"predictions":[[4.5]]})");
  EXPECT_EQ(answers[1].body, R"({"predictions":[[15]]})");
  EXPECT_EQ(answers[2].body, R"({"predictions":[[6]]})");
  EXPECT_EQ(answers[3].status, 404);
  for (const auto& answer : answers) EXPECT_EQ(answer.batch_size, 4);

  const nlohmann::json metadata = *predictor.Metadata();
  EXPECT_EQ(metadata["type"], "scale");
  EXPECT_EQ(metadata["multi_model"]["cache_size"], 1);
  EXPECT_EQ(metadata["multi_model"]["loaded"].size(), 1u);  // cache_size 1
}

}  // namespace
}  // namespace axon::replica
