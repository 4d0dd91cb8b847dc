// MultiNativePredictor: a native predictor (torchscript, onnx, xgboost) with predictor.models
// as a mapping. Each request names its model (?model=NAME, the gateway's /<endpoint>/NAME) and
// optionally a version (?version=N); the model comes from a NativeModelCache (loaded on first
// use, an LRU of cache_size, new versions loaded live) and answers as a NativePredictor would.
//
// Thread-safe: the cache is; the predictor keeps no other state. Owns the cache (and so its
// watcher thread, stopped on destruction).
#pragma once

#include <memory>
#include <string>

#include "replica/native_model_cache.h"
#include "replica/predictor.h"

namespace axon::replica {

class MultiNativePredictor final : public Predictor {
 public:
  // `cache` may already watch its folders (Start()).
  MultiNativePredictor(std::string type, std::unique_ptr<NativeModelCache> cache)
      : type_(std::move(type)), cache_(std::move(cache)) {}

  PredictResponse Predict(const PredictRequest& request) override;
  // Requests of one model share its batches; each model's are run as NativePredictor does.
  std::vector<PredictResponse> PredictBatch(
      std::span<const PredictRequest* const> requests) override;
  // {"type", "multi_model": NativeModelCache::Describe()}.
  std::optional<nlohmann::json> Metadata() const override;

 private:
  StatusOr<std::shared_ptr<const LoadedModel>> ModelFor(const PredictRequest& request) const;

  const std::string type_;
  const std::unique_ptr<NativeModelCache> cache_;
};

// The loader NativeModelCache needs for models of `model` (its type and tensor declarations),
// through LoadModel() (model_loader.h).
NativeModelCache::Loader NativeLoader(spec::ModelSpec model, int concurrency, int intra_op_threads);

}  // namespace axon::replica
