#include "replica/native_predictor.h"

#include "protocol/v1_json.h"
#include "protocol/v2_model_inputs.h"
#include "replica/v2_infer.h"

namespace axon::replica {
namespace {

using tensor::Tensor;

bool Stackable(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!tensor::RowsCompatible(a[i], b[i])) return false;
  }
  return true;
}

Status CheckBatchFirst(const std::vector<Tensor>& outputs, int64_t rows) {
  for (const auto& out : outputs) {
    if (out.shape.empty() || out.shape[0] != rows) {
      return Internal("the model returned output \"" + out.name + "\" of shape " +
                      tensor::ShapeText(out.shape) + " for a batch of " + std::to_string(rows) +
                      " rows; outputs must be batch-first");
    }
  }
  return OkStatus();
}

}  // namespace

PredictResponse NativePredictor::Predict(const PredictRequest& request) {
  const PredictRequest* one[] = {&request};
  PredictResponse response = std::move(PredictBatch(one)[0]);
  response.batch_size = 0;  // not batched
  return response;
}

Status NativePredictor::Decode(const PredictRequest& request, std::vector<Tensor>& inputs,
                               std::optional<protocol::v2::InferRequest>& v2) const {
  if (request.protocol == Protocol::kOpenInference) {
    auto decoded = DecodeV2Request(request);
    if (!decoded.ok()) return decoded.status();
    auto tensors = protocol::v2::InputsForSignature(*decoded, model_->model->signature());
    if (!tensors.ok()) return tensors.status();
    inputs = std::move(tensors).value();
    v2 = std::move(decoded).value();
    return OkStatus();
  }
  auto decoded = protocol::DecodeV1Instances(request.body, model_->model->signature());
  if (!decoded.ok()) return decoded.status();
  inputs = std::move(decoded).value();
  return OkStatus();
}

PredictResponse NativePredictor::Answer(const PredictRequest& request,
                                        const std::optional<protocol::v2::InferRequest>& v2,
                                        const std::vector<Tensor>& outputs, int64_t row,
                                        int64_t count) {
  if (!v2) return {200, protocol::EncodeV1Predictions(outputs, row, count)};
  if (row == 0 && (outputs.empty() || outputs[0].shape[0] == count)) {
    return V2Answer(request, *v2, outputs);
  }
  std::vector<Tensor> rows;
  rows.reserve(outputs.size());
  for (const Tensor& t : outputs) rows.push_back(tensor::SliceRows(t, row, count));
  return V2Answer(request, *v2, rows);
}

std::vector<PredictResponse> NativePredictor::PredictBatch(
    std::span<const PredictRequest* const> requests) {
  std::vector<PredictResponse> responses(requests.size());
  std::vector<std::vector<Tensor>> inputs(requests.size());
  std::vector<std::optional<protocol::v2::InferRequest>> v2(requests.size());
  std::vector<size_t> pending;  // requests whose inputs decoded
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i]->is_get) {
      responses[i] = PredictResponse::Error(
          405,
          "native predictors answer POST {\"instances\": [...]}; GET <endpoint>/metadata "
          "describes the model's inputs");
      continue;
    }
    if (Status s = Decode(*requests[i], inputs[i], v2[i]); !s.ok()) {
      responses[i] = ErrorAnswer(s);
      continue;
    }
    pending.push_back(i);
  }
  const int batch_size = static_cast<int>(requests.size());
  while (!pending.empty()) {
    // The first pending request and every later one that stacks with it form one model call.
    std::vector<size_t> group, rest;
    for (size_t i : pending) {
      (group.empty() || Stackable(inputs[group[0]], inputs[i]) ? group : rest).push_back(i);
    }
    pending = std::move(rest);
    std::vector<Tensor> stacked;
    for (size_t k = 0; k < inputs[group[0]].size(); ++k) {
      if (group.size() == 1) {
        stacked.push_back(std::move(inputs[group[0]][k]));
        continue;
      }
      std::vector<const Tensor*> parts;
      for (size_t i : group) parts.push_back(&inputs[i][k]);
      stacked.push_back(tensor::ConcatRows(parts));
    }
    const int64_t rows = stacked[0].shape[0];
    auto outputs = model_->model->Run(stacked);
    if (outputs.ok()) {
      if (Status s = CheckBatchFirst(*outputs, rows); !s.ok()) outputs = s;
    }
    int64_t row = 0;
    for (size_t i : group) {
      const int64_t count = group.size() == 1 ? rows : inputs[i][0].shape[0];
      responses[i] = outputs.ok() ? Answer(*requests[i], v2[i], *outputs, row, count)
                                  : ErrorAnswer(outputs.status());
      row += count;
    }
  }
  for (auto& response : responses) response.batch_size = batch_size;
  return responses;
}

}  // namespace axon::replica
