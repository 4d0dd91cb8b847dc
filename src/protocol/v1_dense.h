// The V1 body most requests send, decoded without building a JSON document: one model input of
// float32 or float64 whose shape after the batch dimension is known, and a body that is exactly
// {"instances": [instance, ...]} with every instance a nested list of JSON numbers of that
// shape. Each number becomes the double a JSON parser gives (correctly rounded; the integer -0
// is 0), then the dtype, as in the general decoder (v1_json.h), which DecodeV1Instances() uses
// for everything else, errors included.
//
// Pure function; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "tensor/tensor.h"

namespace axon::protocol {

// The tensor of shape [instances, ...] for `input`; nullopt when the body or the input is not
// of the form above (the general decoder then decides). What is allocated is bounded by the
// body's size: each element takes at least one byte of it.
std::optional<tensor::Tensor> DecodeV1Dense(std::string_view body, const tensor::TensorInfo& input);

}  // namespace axon::protocol
