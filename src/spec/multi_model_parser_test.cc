// predictor.models as a mapping (many models loaded by the predictor): parsing, errors and the
// JSON round trip; the list form (native models) keeps working beside it.
#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

// A Python API whose predictor.models is `models` (indented by 4, starting on line 6).
std::string WithModels(std::string_view models) {
  return "name: many\n"
         "kind: RealtimeAPI\n"
         "predictor:\n"
         "  type: python\n"
         "  path: predictor.py\n"
         "  models:\n" +
         std::string(models);
}

TEST_F(SpecFileTest, MultiModelPathsAndDirResolveAgainstTheSpecFolder) {
  Write("models/iris/1/model.pkl", "x");
  Write("zoo/a/model.bin", "x");
  ParseResult result =
      Parse(WithModels("    paths:\n      - {name: iris, path: models/iris}\n"
                       "    dir: zoo\n    cache_size: 2\n    disk_cache_size: 3\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const MultiModelSpec& m = result.apis[0].predictor.multi_model;
  ASSERT_EQ(m.paths.size(), 1u);
  EXPECT_EQ(m.paths[0].name, "iris");
  EXPECT_EQ(m.paths[0].path, (dir_ / "models" / "iris").string());
  EXPECT_EQ(m.dir, (dir_ / "zoo").string());
  EXPECT_EQ(m.cache_size, 2);
  EXPECT_EQ(m.disk_cache_size, 3);
  EXPECT_TRUE(result.apis[0].predictor.models.empty());

  nlohmann::json j = ToJson(result.apis[0]);
  EXPECT_EQ(j["predictor"]["multi_model"]["cache_size"], 2);
  EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(j.dump())), result.apis[0]);
}

TEST_F(SpecFileTest, MultiModelIsAbsentFromTheJsonOfOtherApis) {
  ParseResult result =
      Parse("name: one\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_TRUE(result.apis[0].predictor.multi_model.empty());
  // Content hashes of APIs without it stay what they were.
  EXPECT_FALSE(ToJson(result.apis[0])["predictor"].contains("multi_model"));
}

TEST_F(SpecFileTest, MultiModelCacheSizeIsOptional) {
  Write("zoo/a/model.bin", "x");
  ParseResult result = Parse(WithModels("    dir: zoo\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].predictor.multi_model.cache_size, 0);
}

TEST_F(SpecFileTest, MultiModelNeedsPathsOrDir) {
  ParseResult result = Parse(WithModels("    cache_size: 2\n"));
  EXPECT_TRUE(HasError(result, "axon.yaml:6: ", "predictor.models",
                       "must name its models: paths: [{name, path}], dir"));
}

TEST_F(SpecFileTest, MultiModelPathErrors) {
  Write("m/model.bin", "x");
  ParseResult result =
      Parse(WithModels("    paths:\n"
                       "      - {name: a, path: m}\n"
                       "      - {name: b}\n"
                       "      - {path: m}\n"
                       "      - {name: a, path: m}\n"
                       "      - {name: \"bad name\", path: m}\n"
                       "      - {name: c, path: nowhere}\n"));
  EXPECT_TRUE(HasError(result, "axon.yaml:9: ", "predictor.models.paths[1].path",
                       "is required: the model's file or folder"));
  EXPECT_TRUE(HasError(result, "axon.yaml:10: ", "predictor.models.paths[2].name",
                       "is required: the name requests use (?model=NAME)"));
  EXPECT_TRUE(HasError(result, "axon.yaml:11: ", "predictor.models.paths[3].name",
                       "duplicate model name \"a\"; first listed on line 8"));
  EXPECT_TRUE(HasError(result, "axon.yaml:12: ", "predictor.models.paths[4].name",
                       "must be a model name of letters, digits"));
  EXPECT_TRUE(HasError(result, "axon.yaml:13: ", "predictor.models.paths[5].path",
                       "not found: " + (dir_ / "nowhere").string()));
}

TEST_F(SpecFileTest, MultiModelPathsMustBeAList) {
  ParseResult result = Parse(WithModels("    paths: {name: a, path: m}\n"));
  EXPECT_TRUE(HasError(result, "axon.yaml:7: ", "predictor.models.paths",
                       "must be a non-empty list of {name, path}"));
}

TEST_F(SpecFileTest, MultiModelDirMustExistAndBeAFolder) {
  ParseResult missing = Parse(WithModels("    dir: zoo\n"));
  EXPECT_TRUE(HasError(missing, "axon.yaml:7: ", "predictor.models.dir",
                       "not found: " + (dir_ / "zoo").string()));
  Write("file.bin", "x");
  ParseResult file = Parse(WithModels("    dir: file.bin\n"));
  EXPECT_TRUE(
      HasError(file, "axon.yaml:7: ", "predictor.models.dir", "must be a folder of model folders"));
}

TEST_F(SpecFileTest, MultiModelCacheSizes) {
  Write("zoo/a/model.bin", "x");
  ParseResult zero = Parse(WithModels("    dir: zoo\n    cache_size: 0\n"));
  EXPECT_TRUE(HasError(zero, "axon.yaml:8: ", "predictor.models.cache_size",
                       "must be an integer from 1 to 1000000, got 0"));
  ParseResult small_disk =
      Parse(WithModels("    dir: zoo\n    cache_size: 4\n    disk_cache_size: 2\n"));
  EXPECT_TRUE(HasError(small_disk, "axon.yaml:9: ", "predictor.models.disk_cache_size",
                       "must be >= cache_size (4)"));
}

TEST_F(SpecFileTest, MultiModelUnknownFieldIsReported) {
  Write("zoo/a/model.bin", "x");
  ParseResult result = Parse(WithModels("    dir: zoo\n    cache: 2\n"));
  EXPECT_TRUE(HasError(result, "axon.yaml:8: ", "predictor.models.cache", "unknown field"));
}

TEST_F(SpecFileTest, MisplacedCacheSizeNamesItsSection) {
  ParseResult result = Parse(
      "name: one\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n"
      "  cache_size: 2\n");
  EXPECT_TRUE(HasError(result, "axon.yaml:6: ", "", "predictor.models.cache_size"));
}

TEST_F(SpecFileTest, ModelsListStillMeansNativeModels) {
  Write("m/model.onnx", "x");
  ParseResult result = Parse(WithModels("    - {name: a, type: onnx, model_path: m}\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  ASSERT_EQ(result.apis[0].predictor.models.size(), 1u);
  EXPECT_TRUE(result.apis[0].predictor.multi_model.empty());
  ParseResult scalar = Parse(WithModels("    seven\n"));
  EXPECT_TRUE(HasError(scalar, "axon.yaml:6: ", "predictor.models",
                       "or a mapping of models the predictor loads itself"));
}

// A native API of `type` whose predictor is `fields` (indented by 2, starting on line 5).
std::string Native(std::string_view type, std::string_view fields) {
  return "name: zoo\nkind: RealtimeAPI\npredictor:\n  type: " + std::string(type) + "\n" +
         std::string(fields);
}

TEST_F(SpecFileTest, NativeMultiModelServesModelsOfItsType) {
  Write("models/a/1/model.onnx", "x");
  Write("b.onnx", "x");
  ParseResult result =
      Parse(Native("onnx",
                   "  models:\n    dir: models\n    paths: [{name: b, path: b.onnx}]\n"
                   "    cache_size: 1\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const PredictorSpec& p = result.apis[0].predictor;
  EXPECT_EQ(p.multi_model.dir, (dir_ / "models").string());
  ASSERT_EQ(p.multi_model.paths.size(), 1u);
  EXPECT_EQ(p.multi_model.cache_size, 1);
  EXPECT_EQ(p.model.type, "onnx");
  EXPECT_TRUE(p.model.model_path.empty());
  EXPECT_EQ(p.path, dir_.lexically_normal().string());  // the replica's working folder
  EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(ToJson(result.apis[0]).dump())), result.apis[0]);
}

TEST_F(SpecFileTest, NativeMultiModelSharesTensorDeclarations) {
  Write("models/a/model.pt", "x");
  ParseResult result =
      Parse(Native("torchscript",
                   "  models: {dir: models}\n  inputs: [{name: x, dtype: float32, shape: [4]}]\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  ASSERT_EQ(result.apis[0].predictor.model.inputs.size(), 1u);
  EXPECT_EQ(result.apis[0].predictor.model.inputs[0].shape, std::vector<int64_t>{4});
}

TEST_F(SpecFileTest, NativeMultiModelErrorsNameTheField) {
  Write("models/a/model.json", "x");
  Write("m/model.json", "x");
  ParseResult both =
      Parse(Native("xgboost", "  model_path: m\n  model_version: 1\n  models: {dir: models}\n"));
  EXPECT_TRUE(HasError(both, "axon.yaml:5: ", "predictor.model_path",
                       "cannot be set with predictor.models: each request picks its model"));
  EXPECT_TRUE(HasError(both, "axon.yaml:6: ", "predictor.model_version",
                       "cannot be set with predictor.models"));
  ParseResult list =
      Parse(Native("xgboost", "  models:\n    - {name: a, type: xgboost, model_path: m}\n"));
  EXPECT_TRUE(HasError(list, "axon.yaml:5: ", "predictor.models",
                       "must be a mapping of the xgboost models this predictor serves"));
  ParseResult empty = Parse(Native("xgboost", "  models: {cache_size: 2}\n"));
  EXPECT_TRUE(HasError(empty, "axon.yaml:5: ", "predictor.models", "must name its models"));
  ParseResult neither = Parse(Native("xgboost", "  threads_per_process: 2\n"));
  EXPECT_TRUE(HasError(neither, "", "predictor.model_path", "is required"));
}

}  // namespace
}  // namespace axon::spec
