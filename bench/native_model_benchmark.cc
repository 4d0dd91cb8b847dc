// In-process cost of a native model, without HTTP: the model call alone on tensors decoded
// once, and V1 decode + call + encode as a replica's execution thread does it.
//
// Environment: AXON_BENCH_MODEL_TYPE (torchscript | onnx | xgboost), AXON_BENCH_MODEL_PATH
// (a model file or folder, as model_path in a spec) and AXON_BENCH_BODY (a V1 request body).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "protocol/v1_json.h"
#include "replica/model_loader.h"

namespace {

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::cerr << name << " is not set\n";
    std::exit(2);
  }
  return value;
}

// Never destroyed: XGBoost frees boosters badly from exit handlers, after its own statics.
axon::replica::Model& LoadedModel() {
  static auto* loaded = new axon::replica::LoadedModel([] {
    // Standard output is the benchmark's JSON: the loader's info lines would break it.
    spdlog::set_level(spdlog::level::warn);
    axon::spec::ModelSpec spec;
    spec.type = Env("AXON_BENCH_MODEL_TYPE");
    spec.model_path = Env("AXON_BENCH_MODEL_PATH");
    auto model = axon::replica::LoadModel(spec, 1, 1);
    if (!model.ok()) {
      std::cerr << model.status().message() << "\n";
      std::exit(1);
    }
    return std::move(model).value();
  }());
  return *loaded->model;
}

std::vector<axon::tensor::Tensor> DecodedBody(axon::replica::Model& model) {
  auto inputs = axon::protocol::DecodeV1Instances(Env("AXON_BENCH_BODY"), model.signature());
  if (!inputs.ok()) {
    std::cerr << inputs.status().message() << "\n";
    std::exit(1);
  }
  return std::move(inputs).value();
}

void BM_ModelCall(benchmark::State& state) {
  auto& model = LoadedModel();
  const auto inputs = DecodedBody(model);
  for (auto _ : state) {
    auto outputs = model.Run(inputs);
    if (!outputs.ok()) state.SkipWithError(outputs.status().message().c_str());
    benchmark::DoNotOptimize(outputs);
  }
}
BENCHMARK(BM_ModelCall);

void BM_DecodeCallEncode(benchmark::State& state) {
  auto& model = LoadedModel();
  const std::string_view body = Env("AXON_BENCH_BODY");
  for (auto _ : state) {
    auto inputs = axon::protocol::DecodeV1Instances(body, model.signature());
    auto outputs = model.Run(*inputs);
    if (!outputs.ok()) state.SkipWithError(outputs.status().message().c_str());
    auto text = axon::protocol::EncodeV1Predictions(*outputs, 0, outputs->front().shape[0]);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_DecodeCallEncode);

}  // namespace

BENCHMARK_MAIN();
