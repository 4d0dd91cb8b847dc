// The Open Inference Protocol's model metadata, from what a replica's GET /metadata says about
// its model. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace axon::protocol::v2 {

// The protocol's platform name for a predictor type: "pytorch_torchscript", "onnx_onnxv1",
// "xgboost", "python".
std::string_view PlatformFor(std::string_view predictor_type);

// {"name", "versions", "platform", "inputs": [{"name", "datatype", "shape"}], "outputs"} for the
// model `name` served in API versions `versions`. `replica_metadata` is the replica's answer
// ({"type", "inputs": [{"name", "dtype", "shape"}], "outputs"}), or null for a predictor with no
// model to describe (a Python predictor, whose tensors are its own business). An unknown shape
// becomes [] (models are batch-first, so no real input has rank 0).
nlohmann::json ModelMetadata(std::string_view name, const std::vector<int64_t>& versions,
                             const nlohmann::json& replica_metadata);

}  // namespace axon::protocol::v2
