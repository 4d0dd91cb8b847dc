// The Open Inference Protocol's (KServe v2) tensor datatypes and how they map to tensor::DType.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tensor/tensor.h"

namespace axon::protocol::v2 {

// "BOOL", "UINT8" ... "UINT64", "INT8" ... "INT64", "FP16", "FP32", "FP64", "BYTES".
std::string_view DataTypeName(tensor::DType dtype);
std::optional<tensor::DType> DataTypeFromName(std::string_view name);
// Every name, for error messages: "BOOL, UINT8, ...".
std::string DataTypeNames();

// The extensions the server metadata lists.
inline constexpr std::string_view kBinaryTensorDataExtension = "binary_tensor_data";
// The header that gives the length of the JSON part of a body with binary tensors.
inline constexpr std::string_view kHeaderLengthHeader = "Inference-Header-Content-Length";
// Where the gateway sends inference requests on a replica (the request as the client sent it).
inline constexpr std::string_view kReplicaInferPath = "/v2/infer";

}  // namespace axon::protocol::v2
