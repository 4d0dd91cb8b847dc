// The XGBoost backend: a booster loaded with the XGBoost C API, predicting in place from dense
// float32 rows. Built as the module libaxon_xgboost.so.
//
// Threading: in-place prediction is thread-safe in XGBoost >= 1.4 (its result buffer is
// per thread), so Run() does not lock. The booster handle is freed with the model.
#include <xgboost/c_api.h>

#include <cstdio>
#include <limits>

#include "replica/model.h"

namespace axon::backends {
namespace {

using replica::Model;
using replica::ModelOptions;
using tensor::DType;

std::string LastError() { return XGBGetLastError(); }

class XGBoostModel final : public Model {
 public:
  XGBoostModel(BoosterHandle booster, tensor::Signature signature)
      : booster_(booster), signature_(std::move(signature)) {}
  ~XGBoostModel() override { XGBoosterFree(booster_); }
  XGBoostModel(const XGBoostModel&) = delete;
  XGBoostModel& operator=(const XGBoostModel&) = delete;

  const tensor::Signature& signature() const override { return signature_; }

  StatusOr<std::vector<tensor::Tensor>> Run(const std::vector<tensor::Tensor>& inputs) override {
    const tensor::Tensor& rows = inputs.at(0);
    char array[256];
    std::snprintf(
        array, sizeof(array),
        R"({"data": [%llu, true], "shape": [%lld, %lld], "typestr": "<f4", "version": 3})",
        static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(rows.data.data())),
        static_cast<long long>(rows.shape[0]), static_cast<long long>(rows.shape[1]));
    // "cache_id": 0 is required by in-place prediction; NaN marks missing values.
    constexpr const char* kConfig =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
        R"( "strict_shape": false, "cache_id": 0, "missing": NaN})";
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDense(booster_, array, kConfig, nullptr, &shape, &dims, &result) != 0) {
      return Internal("XGBoost prediction failed: " + LastError());
    }
    tensor::Tensor out{signature_.outputs[0].name, DType::kFloat32, {}, {}};
    for (bst_ulong i = 0; i < dims; ++i) out.shape.push_back(static_cast<int64_t>(shape[i]));
    const auto* bytes = reinterpret_cast<const std::byte*>(result);
    out.data.assign(bytes, bytes + tensor::ElementCount(out.shape) * sizeof(float));
    return std::vector<tensor::Tensor>{std::move(out)};
  }

 private:
  BoosterHandle booster_;
  const tensor::Signature signature_;
};

StatusOr<std::unique_ptr<Model>> LoadXGBoost(const ModelOptions& options) {
  const std::string where = "cannot load XGBoost model " + options.file.string() + ": ";
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) return Internal(where + LastError());
  auto fail = [&](const std::string& why) {
    XGBoosterFree(booster);
    return InvalidArgument(where + why);
  };
  if (XGBoosterLoadModel(booster, options.file.c_str()) != 0) {
    return fail(LastError() + " (save it with booster.save_model(\"model.json\"))");
  }
  const std::string threads = std::to_string(options.intra_op_threads);
  if (XGBoosterSetParam(booster, "nthread", threads.c_str()) != 0) return fail(LastError());
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster, &features) != 0) return fail(LastError());

  tensor::Signature signature;
  signature.inputs.push_back({"features", DType::kFloat32, {-1, static_cast<int64_t>(features)}});
  if (!options.inputs.empty()) {
    const tensor::TensorInfo& declared = options.inputs[0];
    if (options.inputs.size() != 1 || declared.dtype != DType::kFloat32 ||
        declared.shape != signature.inputs[0].shape) {
      return fail("predictor.inputs must be one float32 input of shape [" +
                  std::to_string(features) + "] (the model's feature count), or be left out");
    }
    signature.inputs[0].name = declared.name;
  }
  signature.outputs.push_back({"predictions", DType::kFloat32, {}, /*shape_known=*/false});
  if (!options.outputs.empty()) signature.outputs[0] = options.outputs[0];
  return std::unique_ptr<Model>(std::make_unique<XGBoostModel>(booster, std::move(signature)));
}

}  // namespace
}  // namespace axon::backends

AXON_MODEL_BACKEND(axon::backends::LoadXGBoost)
