// Decoding an Open Inference Protocol (KServe v2) inference request: the JSON object of the
// REST specification, optionally followed by binary tensor data (Triton's binary tensor data
// extension: each input with parameters.binary_data_size takes that many bytes, in input order,
// from what follows the JSON; the Inference-Header-Content-Length header says where the JSON
// ends).
//
// The body is untrusted. Nesting is checked against kMaxJsonDepth before the JSON is parsed; a
// tensor's buffer is allocated only after its size has been checked against the bytes that
// carry it; errors are InvalidArgument, naming the input and saying what was expected and what
// came. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tensor/tensor.h"

namespace axon::protocol::v2 {

inline constexpr int kMaxJsonDepth = 64;
inline constexpr size_t kMaxRank = 32;  // dimensions of a tensor (numpy's limit)

struct RequestedOutput {
  std::string name;
  std::optional<bool> binary;  // its parameters.binary_data, when given
};

struct InferRequest {
  std::string id;  // "" when the request has none
  // The request's "parameters" object as sent ({} when absent), for predictors that read it.
  nlohmann::json parameters = nlohmann::json::object();
  // In request order, each in the datatype and shape the client sent.
  std::vector<tensor::Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output the model has
  bool binary_outputs = false;           // parameters.binary_data_output

  // Whether output `name` is to be sent as binary data: its own binary_data, else
  // binary_data_output.
  bool BinaryOutput(std::string_view name) const;
};

// `header_length` is the Inference-Header-Content-Length of the request, if it had one.
StatusOr<InferRequest> DecodeInferRequest(std::string_view body,
                                          std::optional<uint64_t> header_length);

// An Inference-Header-Content-Length value: a decimal byte count.
StatusOr<uint64_t> ParseHeaderLength(std::string_view value);

// Whether the arrays and objects of `json` nest at most `max_depth` deep (JsonNestingDepth of
// json_limits.h, the same scan the V1 decoder uses).
bool JsonDepthAtMost(std::string_view json, int max_depth);

}  // namespace axon::protocol::v2
