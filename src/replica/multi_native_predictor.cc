#include "replica/multi_native_predictor.h"

#include "replica/native_predictor.h"
#include "replica/v2_infer.h"

namespace axon::replica {
namespace {

std::string_view Param(const PredictRequest& request, std::string_view key) {
  for (const auto& [k, v] : request.query_params) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

StatusOr<std::shared_ptr<const LoadedModel>> MultiNativePredictor::ModelFor(
    const PredictRequest& request) const {
  return cache_->Get(Param(request, "model"), Param(request, "version"));
}

PredictResponse MultiNativePredictor::Predict(const PredictRequest& request) {
  auto model = ModelFor(request);
  if (!model.ok()) return ErrorAnswer(model.status());
  return NativePredictor(std::move(model).value()).Predict(request);
}

std::vector<PredictResponse> MultiNativePredictor::PredictBatch(
    std::span<const PredictRequest* const> requests) {
  std::vector<PredictResponse> responses(requests.size());
  std::vector<std::shared_ptr<const LoadedModel>> models(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto model = ModelFor(*requests[i]);
    if (model.ok()) {
      models[i] = std::move(model).value();
    } else {
      responses[i] = ErrorAnswer(model.status());
    }
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (models[i] == nullptr) continue;
    std::vector<size_t> group;  // the requests of this model still unanswered
    std::vector<const PredictRequest*> batch;
    for (size_t j = i; j < requests.size(); ++j) {
      if (models[j] != models[i]) continue;
      group.push_back(j);
      batch.push_back(requests[j]);
    }
    std::vector<PredictResponse> answers = NativePredictor(models[i]).PredictBatch(batch);
    for (size_t k = 0; k < group.size(); ++k) {
      responses[group[k]] = std::move(answers[k]);
      if (group[k] != i) models[group[k]] = nullptr;
    }
    models[i] = nullptr;
  }
  for (auto& response : responses) response.batch_size = static_cast<int>(requests.size());
  return responses;
}

std::optional<nlohmann::json> MultiNativePredictor::Metadata() const {
  return nlohmann::json{{"type", type_}, {"multi_model", cache_->Describe()}};
}

NativeModelCache::Loader NativeLoader(spec::ModelSpec model, int concurrency,
                                      int intra_op_threads) {
  return [model = std::move(model), concurrency, intra_op_threads](
             const std::string& name, int64_t version,
             const std::filesystem::path& path) -> StatusOr<std::shared_ptr<const LoadedModel>> {
    spec::ModelSpec one = model;
    one.name = name;
    one.model_path = path.string();
    one.model_version = 0;  // `path` is the version's own folder (or the model's file)
    auto loaded = LoadModel(one, concurrency, intra_op_threads);
    if (!loaded.ok()) return loaded.status();
    loaded->file.version = version;
    return std::make_shared<const LoadedModel>(std::move(loaded).value());
  };
}

}  // namespace axon::replica
