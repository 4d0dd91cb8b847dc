// Open Inference Protocol requests in a replica (POST /v2/infer): the gateway sends the client's
// v2 inference request there as it came (JSON, or JSON and binary tensors with
// Inference-Header-Content-Length). These helpers decode it and write the answer, for every
// predictor (native and Python) alike. Pure functions; thread-safe.
#pragma once

#include <span>

#include "common/status.h"
#include "protocol/v2_request.h"
#include "replica/predictor.h"
#include "tensor/tensor.h"

namespace axon::replica {

// The request's body decoded (protocol::v2::DecodeInferRequest), with its
// Inference-Header-Content-Length header if it has one.
StatusOr<protocol::v2::InferRequest> DecodeV2Request(const PredictRequest& request);

// 200 with `outputs` encoded as `decoded` asks (JSON, or binary with
// Inference-Header-Content-Length), or the error of encoding them.
PredictResponse V2Answer(const PredictRequest& request, const protocol::v2::InferRequest& decoded,
                         std::span<const tensor::Tensor> outputs);

// A failure with the HTTP status of `status`'s code. Our own checks (4xx) speak to the client
// as they are; a runtime's failure (5xx) may carry paths and tracebacks and goes through
// PredictResponse::Failure (the client gets a cleaned message, the log the detail).
PredictResponse ErrorAnswer(const Status& status);

}  // namespace axon::replica
