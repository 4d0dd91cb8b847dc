#include "spec/spec_parser.h"

#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr char kMinimal[] =
    "name: iris\n"
    "kind: RealtimeAPI\n"
    "predictor:\n"
    "  type: python\n"
    "  path: predictor.py\n";

TEST_F(SpecFileTest, MinimalSpecGetsEveryDefault) {
  ParseResult result = Parse(kMinimal);
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  ASSERT_EQ(result.apis.size(), 1u);
  const ApiSpec& api = result.apis[0];
  EXPECT_EQ(api.name, "iris");
  EXPECT_EQ(api.kind, "RealtimeAPI");
  EXPECT_EQ(api.predictor.type, "python");
  EXPECT_EQ(api.predictor.path, (dir_ / "predictor.py").string());
  EXPECT_EQ(api.predictor.config, nlohmann::json::object());
  EXPECT_TRUE(api.predictor.env.empty());
  EXPECT_EQ(api.predictor.threads_per_process, 1);
  EXPECT_EQ(api.compute.cpu_millis, 200);
  EXPECT_EQ(api.compute.mem_bytes, 0);
  EXPECT_TRUE(api.node_groups.empty());
  const AutoscalingSpec& a = api.autoscaling;
  EXPECT_EQ(a.min_replicas, 1);
  EXPECT_EQ(a.max_replicas, 100);
  EXPECT_EQ(a.init_replicas, 1);
  EXPECT_EQ(a.target_replica_concurrency, 1.0);
  EXPECT_EQ(a.max_replica_concurrency, 1024);
  EXPECT_EQ(a.window, Millis(60'000));
  EXPECT_EQ(a.downscale_stabilization_period, Millis(300'000));
  EXPECT_EQ(a.upscale_stabilization_period, Millis(60'000));
  EXPECT_EQ(a.max_downscale_factor, 0.75);
  EXPECT_EQ(a.max_upscale_factor, 1.5);
  EXPECT_EQ(a.downscale_tolerance, 0.05);
  EXPECT_EQ(a.upscale_tolerance, 0.05);
  EXPECT_EQ(api.update_strategy.max_surge, (CountOrPercent{25, true}));
  EXPECT_EQ(api.update_strategy.max_unavailable, (CountOrPercent{25, true}));
  EXPECT_EQ(api.networking.endpoint, "/iris");
  EXPECT_EQ(a.max_queue_length, 100);
  EXPECT_EQ(api.networking.timeout, Millis(0));
  EXPECT_FALSE(api.networking.api_keys);
  EXPECT_EQ(api.source_file, (dir_ / "axon.yaml").string());
  EXPECT_EQ(api.source_line, 1);
}

TEST_F(SpecFileTest, LimitsAndKeys) {
  ParseResult result = Parse(std::string(kMinimal) +
                             "autoscaling:\n"
                             "  max_queue_length: 0\n"
                             "networking:\n"
                             "  timeout: 2500ms\n"
                             "  api_keys: true\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_EQ(api.autoscaling.max_queue_length, 0);
  EXPECT_EQ(api.networking.timeout, Millis(2500));
  EXPECT_TRUE(api.networking.api_keys);
  EXPECT_EQ(ApiSpecFromJson(ToJson(api)), api);
}

TEST_F(SpecFileTest, RequestLogging) {
  ParseResult off = Parse(kMinimal);
  ASSERT_TRUE(off.ok()) << off.ErrorText();
  EXPECT_EQ(off.apis[0].logging, LoggingSpec{});
  EXPECT_FALSE(ToJson(off.apis[0]).contains("logging"));  // content hashes stay as they were

  ParseResult all = Parse(std::string(kMinimal) + "logging: {requests: true}\n");
  ASSERT_TRUE(all.ok()) << all.ErrorText();
  EXPECT_TRUE(all.apis[0].logging.requests);
  EXPECT_EQ(all.apis[0].logging.sample, 1.0);

  ParseResult some = Parse(std::string(kMinimal) + "logging:\n  requests: true\n  sample: 0.1\n");
  ASSERT_TRUE(some.ok()) << some.ErrorText();
  EXPECT_EQ(some.apis[0].logging.sample, 0.1);
  EXPECT_EQ(ApiSpecFromJson(ToJson(some.apis[0])), some.apis[0]);

  const struct {
    std::string yaml, location, field, phrase;
  } cases[] = {
      {"logging: {requests: maybe}\n", "axon.yaml:6: ", "logging.requests", "true or false"},
      {"logging: {requests: true, sample: 0}\n", "axon.yaml:6: ", "logging.sample", "> 0"},
      {"logging: {requests: true, sample: 1.5}\n", "axon.yaml:6: ", "logging.sample", "<= 1"},
      {"logging: {requests: true, sample: lots}\n", "axon.yaml:6: ", "logging.sample", "got"},
      {"logging: {sample: 0.5}\n", "axon.yaml:6: ", "logging.sample", "add `requests: true`"},
      {"logging: {request: true}\n", "axon.yaml:6: ", "logging.request", "\"requests\""},
      {"logging: yes\n", "axon.yaml:6: ", "logging", "mapping"},
  };
  for (const auto& c : cases) {
    ParseResult result = Parse(std::string(kMinimal) + c.yaml);
    EXPECT_TRUE(HasError(result, c.location, c.field, c.phrase)) << c.yaml;
  }
}

TEST_F(SpecFileTest, DefaultsFollowOtherFields) {
  ParseResult result = Parse(std::string(kMinimal) +
                             "  threads_per_process: 4\n"
                             "autoscaling:\n"
                             "  min_replicas: 0\n"
                             "compute:\n"
                             "networking:\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].autoscaling.target_replica_concurrency, 4.0);
  EXPECT_EQ(result.apis[0].autoscaling.init_replicas, 0);
  EXPECT_EQ(result.apis[0].autoscaling.min_replicas, 0);
  EXPECT_EQ(result.apis[0].compute.cpu_millis, 200);
  EXPECT_EQ(result.apis[0].networking.endpoint, "/iris");
}

constexpr char kFull[] =
    "name: text-gen2\n"
    "kind: RealtimeAPI\n"
    "predictor:\n"
    "  type: python\n"
    "  path: ./models/../predictor.py\n"
    "  config:\n"
    "    model: gpt2\n"
    "    quoted: \"123\"\n"
    "    ints: [1, -2, 0x10]\n"
    "    nested: {a: 1.5, b: true, c: null, d: [x, {e: False}], f: ~}\n"
    "    big: 1e3\n"
    "    word: yes\n"
    "  env:\n"
    "    LOG_LEVEL: debug\n"
    "    WORKERS: 4\n"
    "    FAST: true\n"
    "    EMPTY:\n"
    "  threads_per_process: 8\n"
    "compute:\n"
    "  cpu: \"1.5\"\n"
    "  mem: 512Mi\n"
    "node_groups: [cpu-spot, cpu_on-demand.1]\n"
    "autoscaling:\n"
    "  min_replicas: 2\n"
    "  max_replicas: 10\n"
    "  init_replicas: 3\n"
    "  target_replica_concurrency: 2.5\n"
    "  max_replica_concurrency: 64\n"
    "  window: 1m30s\n"
    "  downscale_stabilization_period: 10m\n"
    "  upscale_stabilization_period: 500ms\n"
    "  max_downscale_factor: 0.5\n"
    "  max_upscale_factor: 2\n"
    "  downscale_tolerance: 0\n"
    "  upscale_tolerance: 0.1\n"
    "update_strategy:\n"
    "  max_surge: 2\n"
    "  max_unavailable: 0%\n"
    "networking:\n"
    "  endpoint: text/generate/\n";

TEST_F(SpecFileTest, FullSpecSetsEveryField) {
  ParseResult result = Parse(kFull);
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& api = result.apis[0];
  EXPECT_EQ(api.name, "text-gen2");
  EXPECT_EQ(api.predictor.path, (dir_ / "predictor.py").string());
  nlohmann::json config = nlohmann::json::parse(R"({
      "model": "gpt2", "quoted": "123", "ints": [1, -2, 16],
      "nested": {"a": 1.5, "b": true, "c": null, "d": ["x", {"e": false}], "f": null},
      "big": 1000.0, "word": "yes"})");
  EXPECT_EQ(api.predictor.config, config);
  EXPECT_TRUE(api.predictor.config["ints"][0].is_number_integer());
  EXPECT_TRUE(api.predictor.config["nested"]["a"].is_number_float());
  EXPECT_TRUE(api.predictor.config["quoted"].is_string());
  std::map<std::string, std::string> env = {
      {"LOG_LEVEL", "debug"}, {"WORKERS", "4"}, {"FAST", "true"}, {"EMPTY", ""}};
  EXPECT_EQ(api.predictor.env, env);
  EXPECT_EQ(api.predictor.threads_per_process, 8);
  EXPECT_EQ(api.compute.cpu_millis, 1500);
  EXPECT_EQ(api.compute.mem_bytes, 512LL * 1024 * 1024);
  EXPECT_EQ(api.node_groups, (std::vector<std::string>{"cpu-spot", "cpu_on-demand.1"}));
  const AutoscalingSpec& a = api.autoscaling;
  EXPECT_EQ(a.min_replicas, 2);
  EXPECT_EQ(a.max_replicas, 10);
  EXPECT_EQ(a.init_replicas, 3);
  EXPECT_EQ(a.target_replica_concurrency, 2.5);
  EXPECT_EQ(a.max_replica_concurrency, 64);
  EXPECT_EQ(a.window, Millis(90'000));
  EXPECT_EQ(a.downscale_stabilization_period, Millis(600'000));
  EXPECT_EQ(a.upscale_stabilization_period, Millis(500));
  EXPECT_EQ(a.max_downscale_factor, 0.5);
  EXPECT_EQ(a.max_upscale_factor, 2.0);
  EXPECT_EQ(a.downscale_tolerance, 0.0);
  EXPECT_EQ(a.upscale_tolerance, 0.1);
  EXPECT_EQ(api.update_strategy.max_surge, (CountOrPercent{2, false}));
  EXPECT_EQ(api.update_strategy.max_unavailable, (CountOrPercent{0, true}));
  EXPECT_EQ(api.networking.endpoint, "/text/generate");
}

TEST_F(SpecFileTest, ParsesSeveralApisInOneFile) {
  Write("b/predictor.py", "class PythonPredictor: pass\n");
  ParseResult result = Parse(
      "- name: a\n"
      "  kind: RealtimeAPI\n"
      "  predictor: {type: python, path: predictor.py}\n"
      "\n"
      "- name: b\n"
      "  kind: RealtimeAPI\n"
      "  predictor:\n"
      "    type: python\n"
      "    path: b/predictor.py\n"
      "  networking: {endpoint: /b/v2}\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  ASSERT_EQ(result.apis.size(), 2u);
  EXPECT_EQ(result.apis[0].name, "a");
  EXPECT_EQ(result.apis[0].source_line, 1);
  EXPECT_EQ(result.apis[0].networking.endpoint, "/a");
  EXPECT_EQ(result.apis[1].name, "b");
  EXPECT_EQ(result.apis[1].source_line, 5);
  EXPECT_EQ(result.apis[1].predictor.path, (dir_ / "b" / "predictor.py").string());
  EXPECT_EQ(result.apis[1].networking.endpoint, "/b/v2");
}

TEST_F(SpecFileTest, ResolvesPredictorPathsAgainstTheSpecFolder) {
  Write("models/iris/predictor.py", "class PythonPredictor: pass\n");
  const std::string spec =
      "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: ../models/iris/"
      "predictor.py\n";
  ParseResult result = ParseSpecFile(Write("specs/axon.yaml", spec));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].predictor.path, (dir_ / "models/iris/predictor.py").string());
  EXPECT_TRUE(fs::path(result.apis[0].predictor.path).is_absolute());

  // Absolute paths are kept (normalized); text parsing resolves against the named file's folder.
  const std::string absolute = (dir_ / "models/./iris/predictor.py").string();
  result = ParseSpecText(
      "name: iris\nkind: RealtimeAPI\npredictor: {type: python, path: " + absolute + "}\n",
      dir_ / "elsewhere/axon.yaml");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].predictor.path, (dir_ / "models/iris/predictor.py").string());
  result = ParseSpecText(kMinimal, dir_ / "models/iris/axon.yaml");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].predictor.path, (dir_ / "models/iris/predictor.py").string());
}

struct BadSpec {
  const char* name;
  std::string yaml;
  int line;           // 0: an error about the whole file
  const char* field;  // dotted field path, or "" for file-level errors
  const char* phrase;
};

void PrintTo(const BadSpec& c, std::ostream* os) { *os << c.name; }

std::string Head() { return kMinimal; }  // lines 1-5; cases append from line 6

std::string TwoApis(const std::string& second_name, const std::string& extra) {
  // Lines 1-4: api "a" with endpoint "/shared"; lines 5-7: the second API; `extra` from line 8.
  return "- name: a\n  kind: RealtimeAPI\n  predictor: {type: python, path: predictor.py}\n"
         "  networking: {endpoint: /shared}\n- name: " +
         second_name + "\n  kind: RealtimeAPI\n  predictor: {type: python, path: predictor.py}\n" +
         extra;
}

// predictor.config with ten levels of aliases, each a list of ten uses of the one before:
// 10^10 values once expanded, in a few hundred bytes.
std::string AliasBomb() {
  std::string yaml = "  config:\n    l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string uses;
    for (int k = 0; k < 10; ++k) uses += (k ? ", *l" : "*l") + std::to_string(i - 1);
    yaml += "    l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + uses + "]\n";
  }
  return yaml;
}

const BadSpec kBadSpecs[] = {
    {"IntIsString", Head() + "autoscaling:\n  min_replicas: abc\n", 7, "autoscaling.min_replicas",
     "must be an integer >= 0, got \"abc\""},
    {"PredictorIsString", "name: iris\nkind: RealtimeAPI\npredictor: python\n", 3, "predictor",
     "must be a mapping with fields \"type\", \"path\""},
    {"ConfigIsList", Head() + "  config: [1, 2]\n", 6, "predictor.config",
     "must be a mapping (it reaches the predictor as a JSON object), got a list"},
    {"SectionIsList", Head() + "autoscaling:\n  - 1\n", 6, "autoscaling", "got a list"},
    {"MappingForScalar", Head() + "autoscaling:\n  window: {a: 1}\n", 7, "autoscaling.window",
     "must be a duration like \"30s\" or \"5m\", got a mapping"},
    {"UnknownTopField", Head() + "autoscalling:\n  min_replicas: 1\n", 6, "autoscalling",
     "unknown field; did you mean \"autoscaling\"?"},
    {"UnknownNestedField", Head() + "autoscaling:\n  min_replica: 2\n", 7,
     "autoscaling.min_replica", "unknown field; did you mean \"min_replicas\"?"},
    {"MisspelledPath", "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n  pth: p.py\n",
     5, "predictor.pth", "unknown field; did you mean \"path\"?"},
    {"MisplacedField", Head() + "min_replicas: 2\n", 6, "min_replicas",
     "it belongs at \"autoscaling.min_replicas\""},
    {"UnknownFieldListsAllowed", Head() + "compute:\n  disk: 10Gi\n", 7, "compute.disk",
     "allowed fields: \"cpu\", \"mem\""},
    {"UnsupportedField", Head() + "compute:\n  gpu: 1\n", 7, "compute.gpu", "not supported yet"},
    {"DuplicateField", Head() + "kind: RealtimeAPI\n", 6, "kind",
     "duplicate field; first set on line 2"},
    {"MissingName", "kind: RealtimeAPI\npredictor: {type: python, path: predictor.py}\n", 1,
     "api #1: name", "is required"},
    {"InvalidName", "name: Iris_Model\nkind: RealtimeAPI\n", 1, "name",
     "must be a lowercase name of letters, digits and \"-\""},
    {"InvalidNameSuggestsFix", "name: Iris_Model\n", 1, "api #1: name", "try \"iris-model\""},
    {"NameTooLong", "name: " + std::string(64, 'a') + "\n", 1, "name", "at most 63 characters"},
    {"MissingKind", "name: iris\npredictor: {type: python, path: predictor.py}\n", 1,
     "api \"iris\": kind", "is required; allowed kinds: \"RealtimeAPI\""},
    {"BadKind", "name: iris\nkind: RealtimeApi\n", 2, "kind",
     "got \"RealtimeApi\"; did you mean \"RealtimeAPI\"?"},
    {"UnknownKind", "name: iris\nkind: JobAPI\n", 2, "kind",
     "must be one of \"RealtimeAPI\", \"AsyncAPI\", \"BatchAPI\", \"TaskAPI\""},
    {"MissingPredictor", "name: iris\nkind: RealtimeAPI\n", 1, "predictor", "is required"},
    {"MissingPredictorPath", "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n", 3,
     "predictor.path", "is required"},
    {"MissingPredictorType", "name: iris\nkind: RealtimeAPI\npredictor:\n  path: predictor.py\n", 3,
     "predictor.type", "is required; allowed types: \"python\""},
    {"PredictorFileMissing",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n"
     "  path: missing.py\n",
     5, "predictor.path", "file not found: "},
    {"PredictorPathIsFolder",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n"
     "  path: dir.py\n",
     5, "predictor.path", "must be a regular file"},
    {"PredictorPathNotPy",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: python\n"
     "  path: model.onnx\n",
     5, "predictor.path", "ending in \".py\", got \"model.onnx\""},
    {"BadType", "name: iris\nkind: RealtimeAPI\npredictor:\n  type: pyhton\n", 4, "predictor.type",
     "got \"pyhton\"; did you mean \"python\"?"},
    {"TypeNotYet", "name: iris\nkind: RealtimeAPI\npredictor:\n  type: tensorflow\n", 4,
     "predictor.type", "\"tensorflow\" predictors are not supported yet"},
    {"NativeWithoutModelPath", "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n", 3,
     "predictor.model_path", "is required: the model file, or a folder of numbered version"},
    {"ModelPathNotFound",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: nowhere\n", 5,
     "predictor.model_path", "not found: "},
    {"ModelUrlWithoutFile",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: https://h.example/\n",
     5, "predictor.model_path", "must be a URL of one model file"},
    {"ModelUrlWithoutPath",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: http://h.example\n", 5,
     "predictor.model_path", "must be a URL of one model file"},
    {"ModelUrlWithVersion",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: http://h/m.onnx\n"
     "  model_version: 2\n",
     5, "predictor.model_path", "leave out model_version"},
    {"ModelUrlInModels",
     std::string(kMinimal) + "  models: [{name: a, type: onnx, model_path: http://h/m.onnx}]\n", 6,
     "predictor.models[0].model_path", "takes a URL only as predictor.model_path"},
    {"NativeWithPythonPath",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: onnx\n  model_path: m\n"
     "  path: predictor.py\n",
     6, "predictor.path", "is for Python predictors"},
    {"PythonWithModelPath", std::string(kMinimal) + "  model_path: m\n", 6, "predictor.model_path",
     "names its native models under models"},
    {"BadDtype",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: torchscript\n  model_path: m\n"
     "  inputs: [{name: x, dtype: float, shape: [4]}]\n",
     6, "predictor.inputs[0].dtype", "must be one of float32, float64"},
    {"NonNativeDtype",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: torchscript\n  model_path: m\n"
     "  inputs: [{name: x, dtype: int16, shape: [4]}]\n",
     6, "predictor.inputs[0].dtype", "must be one of float32, float64, int32, int64, uint8, bool"},
    {"ZeroDimension",
     "name: iris\nkind: RealtimeAPI\npredictor:\n  type: torchscript\n  model_path: m\n"
     "  inputs: [{name: x, shape: [4, 0]}]\n",
     6, "predictor.inputs[0].shape[1]", "must be a size >= 1, or -1"},
    {"ModelWithoutType", std::string(kMinimal) + "  models: [{name: a, model_path: m}]\n", 6,
     "predictor.models[0].type", "is required: one of \"torchscript\""},
    {"DuplicateModelNames",
     std::string(kMinimal) +
         "  models: [{name: a, type: onnx, model_path: m}, {name: a, type: onnx, model_path: m}]\n",
     6, "predictor.models[1].name", "duplicate model name \"a\""},
    {"BatchingWithoutSize",
     std::string(kMinimal) + "  server_side_batching:\n    batch_interval: 5ms\n", 6,
     "predictor.server_side_batching.max_batch_size", "is required"},
    {"BatchIntervalTooLong",
     std::string(kMinimal) + "  server_side_batching: {max_batch_size: 8, batch_interval: 2m}\n", 6,
     "predictor.server_side_batching.batch_interval", "from 0 (adaptive batching) to 60s"},
    {"BatchTooLarge",
     std::string(kMinimal) +
         "  server_side_batching: {max_batch_size: 5000, batch_interval: 10ms}\n",
     6, "predictor.server_side_batching.max_batch_size", "from 1 to 1024"},
    {"MisplacedBatchField", std::string(kMinimal) + "  max_batch_size: 8\n", 6, "",
     "predictor.server_side_batching.max_batch_size"},
    {"DurationWithoutUnit", Head() + "autoscaling:\n  window: 10\n", 7, "autoscaling.window",
     "needs a unit: write e.g. \"10s\""},
    {"DurationInWords", Head() + "autoscaling:\n  downscale_stabilization_period: ten seconds\n", 7,
     "autoscaling.downscale_stabilization_period", "got \"ten seconds\""},
    {"NegativeDuration", Head() + "autoscaling:\n  upscale_stabilization_period: -5s\n", 7,
     "autoscaling.upscale_stabilization_period", "must not be negative"},
    {"ZeroWindow", Head() + "autoscaling:\n  window: 0s\n", 7, "autoscaling.window",
     "must be a duration > 0"},
    {"MinAboveMax", Head() + "autoscaling:\n  min_replicas: 5\n  max_replicas: 3\n", 7,
     "autoscaling.min_replicas", "must be <= autoscaling.max_replicas (3), got 5"},
    {"MinAboveDefaultMax", Head() + "autoscaling:\n  min_replicas: 200\n", 7,
     "autoscaling.min_replicas", "autoscaling.max_replicas (100, the default)"},
    {"InitOutsideRange",
     Head() + "autoscaling:\n  min_replicas: 1\n  max_replicas: 3\n"
              "  init_replicas: 5\n",
     9, "autoscaling.init_replicas", "must be between"},
    {"NegativeMin", Head() + "autoscaling:\n  min_replicas: -1\n", 7, "autoscaling.min_replicas",
     "must be an integer >= 0, got -1"},
    {"ZeroMax", Head() + "autoscaling:\n  max_replicas: 0\n", 7, "autoscaling.max_replicas",
     "must be an integer >= 1, got 0"},
    {"FractionalReplicas", Head() + "autoscaling:\n  max_replicas: 2.5\n", 7,
     "autoscaling.max_replicas", "must be an integer >= 1, got 2.5"},
    {"DownscaleFactorOutOfRange", Head() + "autoscaling:\n  max_downscale_factor: 1.5\n", 7,
     "autoscaling.max_downscale_factor", "must be a number > 0 and < 1, got 1.5"},
    {"UpscaleFactorTooSmall", Head() + "autoscaling:\n  max_upscale_factor: 1\n", 7,
     "autoscaling.max_upscale_factor", "must be a number > 1, got 1"},
    {"NegativeTolerance", Head() + "autoscaling:\n  downscale_tolerance: -0.1\n", 7,
     "autoscaling.downscale_tolerance", "must be a number >= 0 and < 1, got -0.1"},
    {"NegativeUpscaleTolerance", Head() + "autoscaling:\n  upscale_tolerance: -1\n", 7,
     "autoscaling.upscale_tolerance", "must be a number >= 0, got -1"},
    {"TargetAboveMaxConcurrency",
     Head() + "autoscaling:\n  target_replica_concurrency: 20\n"
              "  max_replica_concurrency: 10\n",
     7, "autoscaling.target_replica_concurrency",
     "must be <= autoscaling.max_replica_concurrency (10)"},
    {"MaxConcurrencyTooBig", Head() + "autoscaling:\n  max_replica_concurrency: 100001\n", 7,
     "autoscaling.max_replica_concurrency", "must be an integer from 1 to 100000"},
    {"BadCpu", Head() + "compute:\n  cpu: lots\n", 7, "compute.cpu",
     "must be a CPU quantity > 0 like \"200m\", \"1\" or 0.5, got \"lots\""},
    {"ZeroCpu", Head() + "compute:\n  cpu: 0m\n", 7, "compute.cpu", "must be a CPU quantity > 0"},
    {"BadMem", Head() + "compute:\n  mem: 1GB\n", 7, "compute.mem", "unknown suffix \"GB\""},
    {"NodeGroupsNotAList", Head() + "node_groups: spot\n", 6, "node_groups",
     "must be a non-empty list of node group names, e.g. [cpu-spot, cpu] (leave the field out "
     "to run on any node), got \"spot\""},
    {"NodeGroupsEmpty", Head() + "node_groups: []\n", 6, "node_groups",
     "must be a non-empty list of node group names"},
    {"NodeGroupBadName", Head() + "node_groups: [spot, -bad]\n", 6, "node_groups[1]",
     "must be a node group name of at most 63 letters, digits"},
    {"NodeGroupTwice", Head() + "node_groups: [spot, spot]\n", 6, "node_groups[1]",
     "names \"spot\" twice; list each group once"},
    {"PercentAbove100", Head() + "update_strategy:\n  max_surge: 150%\n", 7,
     "update_strategy.max_surge", "must be a percentage from 0% to 100%, got \"150%\""},
    {"PercentNotANumber", Head() + "update_strategy:\n  max_unavailable: abc%\n", 7,
     "update_strategy.max_unavailable", "must be an integer >= 0 or a percentage like \"25%\""},
    {"SurgeAndUnavailableZero",
     Head() + "update_strategy:\n  max_surge: 0\n"
              "  max_unavailable: 0%\n",
     6, "update_strategy", "max_surge and max_unavailable cannot both be 0"},
    {"EndpointBadChars", Head() + "networking:\n  endpoint: /iris model\n", 7,
     "networking.endpoint", "may only contain letters, digits"},
    {"EndpointDoubleSlash", Head() + "networking:\n  endpoint: /a//b\n", 7, "networking.endpoint",
     "must not contain \"//\""},
    {"EndpointReserved", Head() + "networking:\n  endpoint: /_axon/health\n", 7,
     "networking.endpoint", "reserved"},
    {"EndpointOpenInference", Head() + "networking:\n  endpoint: /v2/models/x\n", 7,
     "networking.endpoint", "reserved for the Open Inference Protocol"},
    {"NameV2WithoutEndpoint",
     "name: v2\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n", 1, "name",
     "its default endpoint, \"/v2\", is reserved"},
    {"EndpointRoot", Head() + "networking:\n  endpoint: /\n", 7, "networking.endpoint",
     "other than \"/\""},
    {"TimeoutZero", Head() + "networking:\n  timeout: 0s\n", 7, "networking.timeout",
     "must be a duration > 0"},
    {"ApiKeysNotABool", Head() + "networking:\n  api_keys: sometimes\n", 7, "networking.api_keys",
     "must be true or false, got \"sometimes\""},
    {"QueueNegative", Head() + "autoscaling:\n  max_queue_length: -1\n", 7,
     "autoscaling.max_queue_length", "must be an integer from 0 to 1000000"},
    {"ThreadsZero", Head() + "  threads_per_process: 0\n", 6, "predictor.threads_per_process",
     "must be an integer from 1 to 256, got 0"},
    {"EnvValueIsList", Head() + "  env:\n    A: [1]\n", 7, "predictor.env.A",
     "must be a string, number or boolean, got a list"},
    {"EnvBadName", Head() + "  env:\n    1ABC: x\n", 7, "predictor.env",
     "variable names must be letters"},
    {"ConfigInfinity", Head() + "  config:\n    limit: .inf\n", 7, "predictor.config.limit",
     "infinity and NaN cannot be represented"},
    {"ConfigAliasBomb", Head() + AliasBomb(), 6, "predictor.config",
     "holds more than 100000 values (each use of an alias, *name, counts anew)"},
    {"NotUtf8", Head() + "  config: {label: caf\xe9}\n", 6, "",
     "not valid UTF-8: byte 0xE9 in column 22; save the file as UTF-8"},
    {"Utf8Surrogate", Head() + "  config: {label: \xed\xa0\x80}\n", 6, "",
     "byte 0xED in column 19"},
    {"EscapeGivesLatin1Byte", Head() + "  config: {label: \"a\\Nb\"}\n", 6, "",
     "a string here is not valid UTF-8 (it holds the byte 0x85; the escapes"},
    {"EscapeGivesNbspByte", "name: \"a\\_b\"\n", 1, "", "holds the byte 0xA0"},
    {"Utf8Overlong", "\xc0\xaf", 1, "", "not valid UTF-8: byte 0xC0 in column 1"},
    {"Utf8Truncated", Head() + "# caf\xc3", 6, "", "byte 0xC3 in column 6"},
    {"DuplicateNames", TwoApis("a", ""), 5, "api \"a\": name",
     "duplicate API name; \"a\" is also declared on line 1"},
    {"DuplicateEndpoints", TwoApis("b", "  networking:\n    endpoint: shared\n"), 9,
     "networking.endpoint", "\"/shared\" is already used by api \"a\" (line 4)"},
    {"EndpointEqualsADefault",
     "- name: a\n  kind: RealtimeAPI\n  predictor: {type: python, path: predictor.py}\n"
     "- name: b\n  kind: RealtimeAPI\n  predictor: {type: python, path: predictor.py}\n"
     "  networking: {endpoint: a}\n",
     7, "api \"b\": networking.endpoint", "\"/a\" is already used by api \"a\" (line 1)"},
    {"ListItemNotMapping", "- hello\n", 1, "", "api #1: each API must be a mapping"},
    {"YamlSyntaxError", "name: iris\nkind: RealtimeAPI\npredictor: {type: python\n", 4, "",
     "YAML syntax error"},
    {"YamlBadIndent", "name: iris\npredictor:\n    type: python\n  path: x.py\n", 4, "",
     "YAML syntax error"},
    {"StrayComma", ",\n", 1, "", "YAML syntax error: unexpected \",\" where a value should start"},
    {"StrayBracketAfterApi", std::string(kMinimal) + "]\n", 6, "", "YAML syntax error"},
    {"EmptyFile", "", 0, "", "the file is empty"},
    {"OnlyComments", "# nothing here\n", 0, "", "the file is empty"},
    {"TopLevelScalar", "hello\n", 1, "", "must hold an API (a mapping"},
    {"EmptyList", "[]\n", 1, "", "the list of APIs is empty"},
    {"SeveralDocuments", std::string(kMinimal) + "---\n" + kMinimal, 7, "",
     "holds 2 YAML documents"},
};

class BadSpecTest : public SpecFileTest, public ::testing::WithParamInterface<BadSpec> {};

TEST_P(BadSpecTest, ReportsFieldLineAndReason) {
  fs::create_directories(dir_ / "dir.py");
  fs::create_directories(dir_ / "m");
  const BadSpec& c = GetParam();
  ParseResult result = Parse(c.yaml);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.apis.empty());
  const std::string location =
      c.line > 0 ? "axon.yaml:" + std::to_string(c.line) + ": " : "axon.yaml: ";
  EXPECT_TRUE(HasError(result, location, c.field, c.phrase));
  for (const SpecError& e : result.errors) {
    EXPECT_EQ(e.ToString().find('\n'), std::string::npos) << e.ToString();
    EXPECT_EQ(e.file, (dir_ / "axon.yaml").string());
  }
}

INSTANTIATE_TEST_SUITE_P(Malformed, BadSpecTest, ::testing::ValuesIn(kBadSpecs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(SpecFileTest, AnAliasInsideItsOwnAnchorIsAnErrorNotARecursion) {
  // Found by fuzzing (fuzz/regressions/spec_parser/config_alias_inside_itself.yaml): the
  // conversion to JSON followed the alias forever and overflowed the stack.
  ParseResult result = Parse(Head() + "  config: &cfg {in: *cfg}\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << result.ErrorText();
  EXPECT_NE(result.ErrorText().find(
                "nests more than 64 levels deep; an alias used inside its own anchor (&a {x: "
                "*a}) never ends"),
            std::string::npos)
      << result.ErrorText();
}

TEST_F(SpecFileTest, AcceptsUtf8TextAndAliasesWithinTheLimit) {
  // Two- to four-byte sequences, and aliases that expand to 10 * 100 values.
  ParseResult result =
      Parse(Head() +
            "  config:\n    label: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n"
            "    ten: &ten [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
            "    hundred: &hundred [*ten, *ten, *ten, *ten, *ten, *ten, *ten, *ten, "
            "*ten, *ten]\n"
            "    more: [*hundred, *hundred, *hundred, *hundred, *hundred, *hundred, "
            "*hundred, *hundred, *hundred, *hundred]\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const nlohmann::json& config = result.apis[0].predictor.config;
  EXPECT_EQ(config["label"], "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(config["more"].size(), 10u);
  EXPECT_EQ(config["more"][9][9][9], 10);
  // Every accepted spec can be stored: its JSON text is valid UTF-8.
  EXPECT_NO_THROW(ToJson(result.apis[0]).dump());
}

TEST_F(SpecFileTest, ErrorsQuotingLongTextStayValidUtf8) {
  // Values are quoted up to 60 bytes; the cut must not split a two-byte character.
  std::string name = "x";  // then the 60th byte is the first half of a character
  for (int i = 0; i < 40; ++i) name += "\xc3\xa9";
  ParseResult result = Parse("name: " + name + "\nkind: RealtimeAPI\n");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "axon.yaml:1: ", "name", "...\""));
  // The management API sends error text as JSON, which must be valid UTF-8.
  EXPECT_NO_THROW(nlohmann::json(result.ErrorText()).dump()) << result.ErrorText();
}

TEST_F(SpecFileTest, DuplicateNameErrorNamesBothLines) {
  ParseResult result = Parse(TwoApis("a", ""));
  ASSERT_EQ(result.errors.size(), 1u) << result.ErrorText();
  EXPECT_EQ(result.errors[0].line, 5);
  EXPECT_NE(result.errors[0].message.find("line 1"), std::string::npos);
}

TEST_F(SpecFileTest, OneInvalidApiRejectsTheWholeFile) {
  ParseResult result = Parse(TwoApis("b", "  autoscaling: {min_replicas: x}\n"));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.apis.empty());
  ASSERT_EQ(result.errors.size(), 1u) << result.ErrorText();
  EXPECT_EQ(result.errors[0].api, "b");
  EXPECT_EQ(result.errors[0].line, 8);
}

TEST_F(SpecFileTest, ReportsEveryErrorInLineOrder) {
  ParseResult result = Parse(
      "name: Bad_Name\n"             // 1
      "kind: RealtimeAPI\n"          // 2
      "predictor:\n"                 // 3
      "  type: python\n"             // 4
      "  path: predictor.py\n"       // 5
      "autoscaling:\n"               // 6
      "  window: 10\n"               // 7
      "  max_replicas: none\n"       // 8
      "compute: {cpu: x, mem: y}\n"  // 9
      "networking: {endpoint: /a b}\n");
  ASSERT_EQ(result.errors.size(), 6u) << result.ErrorText();
  for (size_t i = 1; i < result.errors.size(); ++i) {
    EXPECT_LE(result.errors[i - 1].line, result.errors[i].line);
  }
  EXPECT_EQ(result.errors[0].field, "name");
  EXPECT_EQ(result.errors[0].api, "#1");
  EXPECT_EQ(result.errors[1].field, "autoscaling.window");
  EXPECT_EQ(result.errors[2].field, "autoscaling.max_replicas");
  EXPECT_EQ(result.errors[5].field, "networking.endpoint");
}

TEST_F(SpecFileTest, UsesTheApiNameInErrorsFoundBeforeTheNameField) {
  ParseResult result = Parse(
      "kind: RealtimeAPI\nfoo: 1\nname: iris\npredictor: {type: python, path: predictor.py}\n");
  ASSERT_EQ(result.errors.size(), 1u) << result.ErrorText();
  EXPECT_EQ(result.errors[0].ToString(),
            (dir_ / "axon.yaml").string() +
                ":2: api \"iris\": foo: unknown field; allowed "
                "fields: \"name\", \"kind\", \"predictor\", \"compute\", \"autoscaling\", "
                "\"update_strategy\", \"networking\", \"logging\", \"node_groups\", \"queue\", "
                "\"definition\"");
}

TEST_F(SpecFileTest, MissingFileIsAnError) {
  ParseResult result = ParseSpecFile(dir_ / "nope.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString(),
            (dir_ / "nope.yaml").string() +
                ": no such file; check the path (a spec is usually named axon.yaml)");
  result = ParseSpecFile(dir_);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("is a folder"), std::string::npos);
}

// Regression (found by fuzz/spec_parser): yaml-cpp's message for this input quotes bytes cut
// inside a character; error text must stay valid UTF-8, since it reaches clients as JSON.
TEST(SpecErrorTest, YamlErrorsAreValidUtf8) {
  const std::string yaml("-\0\0\0\0\0\0\0n a ", 12);
  ParseResult result = ParseSpecText(yaml, "/tmp/axon.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_NO_THROW((void)nlohmann::json(result.ErrorText()).dump()) << result.ErrorText();
}

TEST(SpecErrorTest, FormatsOnlyTheKnownParts) {
  EXPECT_EQ((SpecError{"a.yaml", 12, "iris", "autoscaling.min_replicas", "bad"}).ToString(),
            "a.yaml:12: api \"iris\": autoscaling.min_replicas: bad");
  EXPECT_EQ((SpecError{"a.yaml", 0, "", "", "empty"}).ToString(), "a.yaml: empty");
  EXPECT_EQ((SpecError{"a.yaml", 3, "#2", "name", "missing"}).ToString(),
            "a.yaml:3: api #2: name: missing");
  EXPECT_EQ((SpecError{"", 0, "", "kind", "bad"}).ToString(), "kind: bad");
  ParseResult result;
  result.errors = {{"f", 1, "", "", "one"}, {"f", 2, "", "", "two"}};
  EXPECT_EQ(result.ErrorText(), "f:1: one\nf:2: two");
}

TEST_F(SpecFileTest, NativeAndPythonModelSpecs) {
  fs::create_directories(dir_ / "model" / "1");
  ParseResult result = Parse(
      "- name: mlp\n  kind: RealtimeAPI\n  predictor:\n    type: torchscript\n"
      "    model_path: model\n    model_version: 1\n"
      "    inputs: [{name: x, dtype: float32, shape: [64]}]\n    intra_op_threads: 2\n"
      "    server_side_batching: {max_batch_size: 32, batch_interval: 5ms}\n"
      "- name: classify\n  kind: RealtimeAPI\n  predictor:\n    type: python\n"
      "    path: predictor.py\n    models: [{name: resnet, type: onnx, model_path: model}]\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const PredictorSpec& mlp = result.apis[0].predictor;
  EXPECT_EQ(mlp.model.type, "torchscript");
  EXPECT_EQ(mlp.model.model_path, (dir_ / "model").string());
  EXPECT_EQ(mlp.model.model_version, 1);
  ASSERT_EQ(mlp.model.inputs.size(), 1u);
  EXPECT_EQ(mlp.model.inputs[0].shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(mlp.intra_op_threads, 2);
  EXPECT_EQ(mlp.server_side_batching.max_batch_size, 32);
  EXPECT_EQ(mlp.server_side_batching.batch_interval, Millis(5));
  const PredictorSpec& classify = result.apis[1].predictor;
  ASSERT_EQ(classify.models.size(), 1u);
  EXPECT_EQ(classify.models[0].name, "resnet");
  EXPECT_EQ(classify.models[0].type, "onnx");
  EXPECT_FALSE(classify.server_side_batching.enabled());
  for (const ApiSpec& api : result.apis) {
    EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(ToJson(api).dump())), api);
  }
}

TEST_F(SpecFileTest, AModelUrlIsKeptAsItIs) {
  // Not looked for on disk: the operator downloads it at deploy (operator/model_download.h).
  ParseResult result = Parse(
      "name: mlp\nkind: RealtimeAPI\npredictor:\n  type: torchscript\n"
      "  model_path: https://models.example.com/mlp/model.pt?sig=1\n");
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  EXPECT_EQ(result.apis[0].predictor.model.model_path,
            "https://models.example.com/mlp/model.pt?sig=1");
  EXPECT_TRUE(IsModelUrl(result.apis[0].predictor.model.model_path));
  EXPECT_FALSE(IsModelUrl("/srv/models/http://x"));
}

TEST_F(SpecFileTest, BatchingWithoutAnIntervalIsAdaptive) {
  for (const char* batching : {"{max_batch_size: 16}", "{max_batch_size: 16, batch_interval: 0}",
                               "{max_batch_size: 16, batch_interval: 0ms}"}) {
    ParseResult result =
        Parse(std::string("- name: echo\n  kind: RealtimeAPI\n  predictor:\n    type: python\n"
                          "    path: predictor.py\n    server_side_batching: ") +
              batching + "\n");
    ASSERT_TRUE(result.ok()) << batching << ": " << result.ErrorText();
    const BatchingSpec& b = result.apis[0].predictor.server_side_batching;
    EXPECT_TRUE(b.enabled()) << batching;
    EXPECT_EQ(b.max_batch_size, 16);
    EXPECT_EQ(b.batch_interval, Millis(0)) << batching;
    EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(ToJson(result.apis[0]).dump())),
              result.apis[0]);
  }
}

TEST_F(SpecFileTest, JsonRoundTripIsLossless) {
  ParseResult result = Parse(kFull);
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const ApiSpec& original = result.apis[0];
  nlohmann::json j = ToJson(original);
  EXPECT_EQ(j["autoscaling"]["window_ms"], 90'000);
  EXPECT_EQ(j["update_strategy"]["max_unavailable"]["percent"], true);
  // Through text as well, as the state store does.
  ApiSpec copy = ApiSpecFromJson(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(copy, original);
  EXPECT_EQ(copy.source_file, original.source_file);
  EXPECT_EQ(copy.source_line, original.source_line);
  EXPECT_EQ(ToJson(copy), j);

  ApiSpec odd = original;  // values the parser never produces still survive
  odd.autoscaling.target_replica_concurrency = 0.1 + 0.2;
  odd.networking.endpoint = "";
  odd.source_line = 42;
  ApiSpec odd_copy = ApiSpecFromJson(nlohmann::json::parse(ToJson(odd).dump()));
  EXPECT_EQ(odd_copy, odd);
  EXPECT_EQ(odd_copy.source_line, 42);
  EXPECT_NE(odd_copy, original);
  EXPECT_THROW(ApiSpecFromJson(nlohmann::json::object()), nlohmann::json::exception);
}

}  // namespace
}  // namespace axon::spec
