// Matching the inputs of a decoded Open Inference Protocol request to a native model's
// signature. Pure functions; thread-safe.
#pragma once

#include <vector>

#include "common/status.h"
#include "protocol/v2_request.h"
#include "tensor/tensor.h"

namespace axon::protocol::v2 {

// Moves the request's inputs into signature order, each converted to the model's dtype where
// that loses nothing (tensor::ConvertsLosslessly). Checks that every model input is there and
// no other, that shapes fit the model's (-1 matches any size), that every input has a batch
// dimension of at least 1 and that all agree on it. Errors are InvalidArgument naming the input
// with what the model takes and what came.
StatusOr<std::vector<tensor::Tensor>> InputsForSignature(InferRequest& request,
                                                         const tensor::Signature& signature);

}  // namespace axon::protocol::v2
