// The contract between a replica and a native model backend (TorchScript, ONNX, XGBoost).
//
// Each backend is a shared module (libaxon_<type>.so) loaded on demand by model_loader.h, so a
// replica maps only the runtime its API uses. A module exports one C entry point,
// kModelEntryPoint, of type ModelEntryPointFn.
//
// Threading: Run() is called concurrently from up to ModelOptions::concurrency threads; a
// backend either runs calls in parallel or serializes them internally.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tensor/tensor.h"

namespace axon::replica {

struct ModelOptions {
  std::filesystem::path file;  // the model file itself (version folder already chosen)
  // Declared in the spec; where given they name, type and shape the model's tensors (shapes
  // with the leading batch dimension, -1 = any). A backend checks them against what the file
  // says when the format carries that.
  std::vector<tensor::TensorInfo> inputs;
  std::vector<tensor::TensorInfo> outputs;
  int concurrency = 1;       // threads that may call Run() at once
  int intra_op_threads = 1;  // threads one call may use inside the runtime
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const tensor::Signature& signature() const = 0;
  // `inputs` follow signature().inputs in order, each with the batch as dimension 0. Returns
  // one tensor per output, batch first. Thread-safe.
  virtual StatusOr<std::vector<tensor::Tensor>> Run(const std::vector<tensor::Tensor>& inputs) = 0;
};

using ModelEntryPointFn = void (*)(const ModelOptions& options,
                                   StatusOr<std::unique_ptr<Model>>* out);
inline constexpr const char* kModelEntryPoint = "axon_load_model";

}  // namespace axon::replica

// Defines a module's entry point from a function `StatusOr<std::unique_ptr<Model>>
// Load(const ModelOptions&)`.
#define AXON_MODEL_BACKEND(load_fn)                                       \
  extern "C" __attribute__((visibility("default"))) void axon_load_model( \
      const ::axon::replica::ModelOptions& options,                       \
      ::axon::StatusOr<std::unique_ptr<::axon::replica::Model>>* out) {   \
    *out = load_fn(options);                                              \
  }
