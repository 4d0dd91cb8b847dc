// The gRPC messages of the Open Inference Protocol (open_inference.proto) to and from its HTTP
// form. The gateway's gRPC service turns each call into the equivalent HTTP request and goes
// through the same handling as an HTTP client, so replicas see one form (JSON header and
// binary tensors) and decode it with one decoder. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "open_inference.pb.h"

namespace axon::protocol::v2 {

// An HTTP body with binary tensor data: JSON, then `body.size() - header_length` bytes.
struct BinaryBody {
  std::string body;
  size_t header_length = 0;  // the Inference-Header-Content-Length
};

// ModelInfer's request as an HTTP inference request: every input as binary data (from
// raw_input_contents, or converted from its typed contents), every output asked for as binary
// data. Errors (InvalidArgument): contents that do not fit their datatype or shape, contents
// and raw_input_contents both given, a raw_input_contents count other than the inputs'.
StatusOr<BinaryBody> InferRequestToHttp(const inference::ModelInferRequest& request);

// A 200 answer to such a request into `out`, each output's bytes in raw_output_contents.
Status InferResponseFromHttp(std::string_view body, std::optional<uint64_t> header_length,
                             inference::ModelInferResponse* out);

// The HTTP target of a model call: "/v2/models/<name>[/versions/<version>]<suffix>".
std::string ModelTarget(std::string_view name, std::string_view version, std::string_view suffix);

// The metadata answers' JSON into their messages (missing fields stay empty); Internal for a
// value of the wrong type.
Status ServerMetadataFromJson(const nlohmann::json& json, inference::ServerMetadataResponse* out);
Status ModelMetadataFromJson(const nlohmann::json& json, inference::ModelMetadataResponse* out);

// The call status for an HTTP error answer: its code by the HTTP status (400 INVALID_ARGUMENT,
// 404 NOT_FOUND, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, ...), its message from {"error"}.
grpc::Status GrpcStatusFor(int http_status, std::string_view body);

}  // namespace axon::protocol::v2
