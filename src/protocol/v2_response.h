// Encoding an Open Inference Protocol inference response: JSON, or JSON followed by the
// outputs that were asked for as binary data (each then carries parameters.binary_data_size,
// and Inference-Header-Content-Length gives the length of the JSON). Pure functions;
// thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/v2_request.h"
#include "tensor/tensor.h"

namespace axon::protocol::v2 {

struct ResponseInfo {
  std::string_view model_name;
  std::string_view model_version;  // "" leaves it out
};

struct EncodedResponse {
  std::string body;
  // The length of the JSON part when binary data follow it (the response's
  // Inference-Header-Content-Length); 0 when the body is JSON only.
  size_t header_length = 0;
  std::string_view content_type() const {
    return header_length > 0 ? "application/octet-stream" : "application/json";
  }
};

// The response to `request` with `outputs`: those it names, in its order, or else all of
// them. Errors: InvalidArgument for a requested output that `outputs` lacks, or for BYTES that
// are not UTF-8 asked for as JSON; Internal for a tensor whose data do not match its shape.
StatusOr<EncodedResponse> EncodeInferResponse(const ResponseInfo& info, const InferRequest& request,
                                              std::span<const tensor::Tensor> outputs);

}  // namespace axon::protocol::v2
