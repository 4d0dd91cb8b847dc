// Serves a native model (model.h) over the V1 JSON protocol (decodes {"instances": [...]}
// against the model's signature, runs the model, encodes {"predictions": [...]}) and over the
// Open Inference Protocol (replica/v2_infer.h). In a batch, requests whose tensors stack (same
// dtypes and shapes past the batch dimension) share one model call, whatever protocol each came
// in; the others run in calls of their own.
//
// Thread-safe: holds no mutable state beyond the model, which is itself thread-safe. Cheap to
// construct over a shared model (MultiNativePredictor makes one per batch of a model).
#pragma once

#include <memory>
#include <optional>

#include "protocol/v2_request.h"
#include "replica/model_loader.h"
#include "replica/predictor.h"

namespace axon::replica {

class NativePredictor final : public Predictor {
 public:
  explicit NativePredictor(LoadedModel model)
      : model_(std::make_shared<const LoadedModel>(std::move(model))) {}
  // Shares a model with others (one of NativeModelCache's).
  explicit NativePredictor(std::shared_ptr<const LoadedModel> model) : model_(std::move(model)) {}

  PredictResponse Predict(const PredictRequest& request) override;
  std::vector<PredictResponse> PredictBatch(
      std::span<const PredictRequest* const> requests) override;
  std::optional<nlohmann::json> Metadata() const override { return model_->Describe(); }

 private:
  // The model's inputs of one request; `v2` is set for an Open Inference Protocol request.
  Status Decode(const PredictRequest& request, std::vector<tensor::Tensor>& inputs,
                std::optional<protocol::v2::InferRequest>& v2) const;
  // The answer to one request: rows [row, row + count) of `outputs`.
  static PredictResponse Answer(const PredictRequest& request,
                                const std::optional<protocol::v2::InferRequest>& v2,
                                const std::vector<tensor::Tensor>& outputs, int64_t row,
                                int64_t count);

  std::shared_ptr<const LoadedModel> model_;  // never null
};

}  // namespace axon::replica
