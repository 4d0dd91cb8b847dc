// Serves a native model (model.h) over the V1 JSON protocol: decodes {"instances": [...]}
// against the model's signature, runs the model, encodes {"predictions": [...]}. In a batch,
// requests whose tensors stack (same dtypes and shapes past the batch dimension) share one
// model call; the others run in calls of their own.
//
// Thread-safe: holds no mutable state beyond the model, which is itself thread-safe.
#pragma once

#include "replica/model_loader.h"
#include "replica/predictor.h"

namespace axon::replica {

class NativePredictor final : public Predictor {
 public:
  explicit NativePredictor(LoadedModel model) : model_(std::move(model)) {}

  PredictResponse Predict(const PredictRequest& request) override;
  std::vector<PredictResponse> PredictBatch(
      std::span<const PredictRequest* const> requests) override;
  std::optional<nlohmann::json> Metadata() const override { return model_.Describe(); }

 private:
  LoadedModel model_;
};

}  // namespace axon::replica
