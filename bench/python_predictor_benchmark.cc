// The model in-process: one predict() call through the embedded-Python backend, without HTTP.
// The predictor module comes from AXON_BENCH_PREDICTOR, its request body from
// AXON_BENCH_BODY (JSON).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "backends/python/python_predictor.h"

namespace {

axon::replica::Predictor* LoadedPredictor() {
  static std::unique_ptr<axon::replica::Predictor> predictor = [] {
    const char* path = std::getenv("AXON_BENCH_PREDICTOR");
    auto loaded = axon::backends::LoadPythonPredictor(path != nullptr ? path : "predictor.py",
                                                      nlohmann::json::object(), {});
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      std::exit(1);
    }
    return std::move(loaded).value();
  }();
  return predictor.get();
}

void BM_PythonPredict(benchmark::State& state) {
  auto* predictor = LoadedPredictor();
  const char* body = std::getenv("AXON_BENCH_BODY");
  axon::replica::PredictRequest request;
  request.body = body != nullptr ? body : "{}";
  request.content_type = "application/json";
  for (auto _ : state) {
    auto response = predictor->Predict(request);
    if (response.status != 200) state.SkipWithError(response.body.c_str());
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_PythonPredict);

}  // namespace

BENCHMARK_MAIN();
