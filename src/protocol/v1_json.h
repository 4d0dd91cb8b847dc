// The KServe / TF-Serving "V1" JSON protocol for native models:
//   request  {"instances": [instance, ...]}   one instance per sample
//   response {"predictions": [prediction, ...]}
// An instance is a nested list (single-input models) or an object of input name -> nested list
// (multi-input models); a prediction likewise for single- and multi-output models.
//
// Pure functions; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tensor/tensor.h"

namespace axon::protocol {

// How deep a V1 body may nest lists and objects: {"instances": [instance]} with an instance of
// up to 29 dimensions (or an object of inputs of up to 28).
constexpr int kMaxV1Depth = 32;

// One tensor per model input, in signature order, each of shape [instances, ...]. Errors are
// InvalidArgument with a message that names the instance and input and states the expected and
// the received shape or dtype. What is allocated is bounded by the body's size: nesting deeper
// than kMaxV1Depth, instances of different shapes, and shapes that need more elements than the
// body has bytes are refused before any tensor is made.
// The usual body (one float input of known shape, v1_dense.h) is read without building a JSON
// document.
StatusOr<std::vector<tensor::Tensor>> DecodeV1Instances(std::string_view body,
                                                        const tensor::Signature& signature);
// DecodeV1Instances() without that shortcut: for the tests that check the two agree.
StatusOr<std::vector<tensor::Tensor>> DecodeV1InstancesGeneral(std::string_view body,
                                                               const tensor::Signature& signature);

// Rows [begin, begin + count) of `outputs` (all of equal first dimension) as a V1 response body.
std::string EncodeV1Predictions(std::span<const tensor::Tensor> outputs, int64_t begin,
                                int64_t count);

}  // namespace axon::protocol
