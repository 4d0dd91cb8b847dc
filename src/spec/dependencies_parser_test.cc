// predictor.dependencies: parsing, path rules and the JSON round trip.
#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

std::string WithDependencies(std::string_view dependencies, std::string_view type = "python") {
  return "name: deps\n"
         "kind: RealtimeAPI\n"
         "predictor:\n"
         "  type: " +
         std::string(type) +
         "\n"
         "  path: predictor.py\n"
         "  dependencies:\n" +
         std::string(dependencies);
}

TEST_F(SpecFileTest, DependenciesResolveAgainstTheSpecFolder) {
  Write("requirements.txt", "--no-index\npkg==1.0\n");
  Write("setup/dependencies.sh", "echo hi\n");
  ParseResult result =
      Parse(WithDependencies("    pip: requirements.txt\n    shell: ./setup/dependencies.sh\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const DependenciesSpec& deps = result.apis[0].predictor.dependencies;
  EXPECT_EQ(deps.pip, (dir_ / "requirements.txt").string());
  EXPECT_EQ(deps.shell, (dir_ / "setup" / "dependencies.sh").string());

  nlohmann::json j = ToJson(result.apis[0]);
  EXPECT_EQ(j["predictor"]["dependencies"]["pip"], deps.pip);
  EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(j.dump())), result.apis[0]);
}

TEST_F(SpecFileTest, DependenciesDefaultToNone) {
  ParseResult result =
      Parse("name: deps\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_TRUE(result.apis[0].predictor.dependencies.empty());
  // Specs saved before dependencies existed read back without them.
  nlohmann::json j = ToJson(result.apis[0]);
  j["predictor"].erase("dependencies");
  EXPECT_TRUE(ApiSpecFromJson(j).predictor.dependencies.empty());
}

TEST_F(SpecFileTest, DependencyFilesMustExistInThePredictorFolder) {
  fs::create_directories(dir_ / "folder");
  Write("sub/predictor.py", "class PythonPredictor:\n    def predict(self):\n        pass\n");
  Write("outside.txt", "pkg\n");
  ParseResult missing = Parse(WithDependencies("    pip: nope.txt\n    shell: folder\n"));
  EXPECT_TRUE(HasError(missing, "axon.yaml:7: ", "predictor.dependencies.pip",
                       "file not found: " + (dir_ / "nope.txt").string()));
  EXPECT_TRUE(
      HasError(missing, "axon.yaml:8: ", "predictor.dependencies.shell", "must be a regular file"));

  ParseResult outside = Parse(
      "name: deps\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: sub/predictor.py\n"
      "  dependencies: {pip: outside.txt}\n");
  EXPECT_TRUE(HasError(outside, "axon.yaml:6: ", "predictor.dependencies.pip",
                       "must lie in the predictor's folder " + (dir_ / "sub").string()));
}

TEST_F(SpecFileTest, DependenciesErrorsSayWhatIsAllowed) {
  ParseResult empty = Parse(WithDependencies("    {}\n"));
  EXPECT_TRUE(HasError(empty, "axon.yaml:6: ", "predictor.dependencies",
                       "must name a pip requirements file, a shell script or both"));

  ParseResult conda = Parse(WithDependencies("    conda: conda-packages.txt\n"));
  EXPECT_TRUE(HasError(conda, "axon.yaml:7: ", "predictor.dependencies.conda",
                       "not supported yet; supported fields here: \"pip\", \"shell\""));

  ParseResult list = Parse(WithDependencies("    [requirements.txt]\n"));
  EXPECT_TRUE(HasError(list, "axon.yaml:6: ", "predictor.dependencies", "must be a mapping"));

  ParseResult misplaced = Parse(
      "name: deps\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n"
      "  pip: requirements.txt\n");
  EXPECT_TRUE(HasError(misplaced, "axon.yaml:6: ", "predictor.pip",
                       "it belongs at \"predictor.dependencies.pip\""));

  Write("model.onnx", "not really");
  ParseResult native = Parse(
      "name: deps\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: model.onnx\n"
      "  dependencies: {pip: requirements.txt}\n");
  EXPECT_TRUE(
      HasError(native, "axon.yaml:6: ", "predictor.dependencies", "is for Python predictors"));
}

}  // namespace
}  // namespace axon::spec
