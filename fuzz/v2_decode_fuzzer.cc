// Fuzzes the Open Inference Protocol's request decoder, protocol::v2::DecodeInferRequest, for
// JSON and binary bodies, and what follows it in a replica: matching to a model's signature
// (protocol::v2::InputsForSignature) and encoding an answer (EncodeInferResponse).
//
// Input layout: byte 0 chooses the mode. Even: the rest is a JSON body. Odd: bytes 1-2 are a
// little-endian Inference-Header-Content-Length (which may exceed the body, as a client's may)
// and the rest is the body, JSON then binary tensors.
//
// Checked besides the sanitizers: no exception escapes; errors have messages; an accepted
// request has every tensor holding exactly what its datatype and shape say (fixed-size
// elements, or well-formed BYTES elements) and at most kMaxRank dimensions; tensors matched to a
// signature have the model's dtypes and agree on their batch; and encoding the decoded inputs
// as binary outputs, then decoding that answer as a request again, gives the same bytes.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/v2_model_inputs.h"
#include "protocol/v2_request.h"
#include "protocol/v2_response.h"

namespace {

namespace v2 = axon::protocol::v2;
using axon::tensor::DType;
using axon::tensor::Signature;
using axon::tensor::Tensor;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "v2_decode: %s\n", what.c_str());
  std::abort();
}

const std::vector<Signature>& Signatures() {
  static const std::vector<Signature> signatures = {
      // The MLP of the examples.
      {{{"x", DType::kFloat32, {-1, 64}}}, {}},
      // A model whose inputs the spec does not declare: any shape, float32.
      {{{"x", DType::kFloat32, {}, /*shape_known=*/false}}, {}},
      // Several inputs of other native dtypes (conversions from narrower datatypes).
      {{{"ids", DType::kInt64, {-1, -1}},
        {"mask", DType::kBool, {-1, 3}},
        {"w", DType::kFloat64, {-1}}},
       {}},
      {{{"image", DType::kUInt8, {-1, 2, 2, 3}}}, {}},
  };
  return signatures;
}

void CheckTensor(const Tensor& t) {
  if (t.shape.size() > v2::kMaxRank) Fail("a tensor has more dimensions than allowed");
  const std::optional<uint64_t> count = axon::tensor::CheckedElementCount(t.shape);
  if (!count) Fail("an accepted tensor has a shape without an element count");
  if (t.dtype == DType::kBytes) {
    if (!axon::tensor::SplitBytesElements(t.data, *count)) Fail("malformed BYTES data accepted");
  } else if (t.data.size() != *count * axon::tensor::DTypeSize(t.dtype)) {
    Fail("tensor bytes do not match its shape");
  }
}

// Encode the inputs as binary outputs; read that answer back as a request (its JSON lists
// "outputs" where a request lists "inputs"): the same tensors must come back, byte for byte.
void CheckRoundTrip(const v2::InferRequest& request) {
  v2::InferRequest ask;
  ask.binary_outputs = true;
  auto encoded = v2::EncodeInferResponse({"m", "1"}, ask, request.inputs);
  if (!encoded.ok()) Fail("encoding decoded inputs failed: " + encoded.status().message());
  std::string body = encoded->body;
  const size_t at = body.find("\"outputs\":[");
  if (at == std::string::npos || at >= encoded->header_length) Fail("no outputs in the answer");
  body.replace(at, 9, "\"inputs\"");
  auto again = v2::DecodeInferRequest(body, encoded->header_length - 1);
  if (!again.ok()) Fail("re-decoding an encoded answer failed: " + again.status().message());
  if (again->inputs.size() != request.inputs.size()) Fail("round trip changed the input count");
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const Tensor& a = request.inputs[i];
    const Tensor& b = again->inputs[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape || a.data != b.data) {
      Fail("round trip changed input " + a.name);
    }
  }
}

void CheckForSignatures(const v2::InferRequest& request) {
  for (const Signature& signature : Signatures()) {
    v2::InferRequest copy = request;
    auto tensors = v2::InputsForSignature(copy, signature);
    if (!tensors.ok()) {
      if (tensors.status().message().empty()) Fail("a signature error without a message");
      continue;
    }
    if (tensors->size() != signature.inputs.size()) Fail("one tensor per model input expected");
    for (size_t i = 0; i < tensors->size(); ++i) {
      const Tensor& t = (*tensors)[i];
      if (t.dtype != signature.inputs[i].dtype || t.name != signature.inputs[i].name) {
        Fail("a matched tensor has another dtype or name than the model's");
      }
      if (t.shape.empty() || t.shape[0] < 1 || t.shape[0] != (*tensors)[0].shape[0]) {
        Fail("matched tensors disagree on the batch");
      }
      CheckTensor(t);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool binary = (data[0] & 1) != 0;
  if (binary && size < 3) return 0;
  std::optional<uint64_t> header_length;
  if (binary) header_length = static_cast<uint64_t>(data[1]) | static_cast<uint64_t>(data[2]) << 8;
  const size_t skip = binary ? 3 : 1;
  const std::string_view body(reinterpret_cast<const char*>(data) + skip, size - skip);
  try {
    auto request = v2::DecodeInferRequest(body, header_length);
    if (!request.ok()) {
      if (request.status().message().empty()) Fail("an error without a message");
      return 0;
    }
    for (const Tensor& t : request->inputs) CheckTensor(t);
    CheckRoundTrip(*request);
    CheckForSignatures(*request);
    // The answer as the request asks for it: valid, or a request error (an unknown output,
    // BYTES that are not text asked for as JSON).
    auto answer = v2::EncodeInferResponse({"m", ""}, *request, request->inputs);
    if (!answer.ok() && answer.status().code() != axon::StatusCode::kInvalidArgument) {
      Fail("encoding failed other than for the request: " + answer.status().message());
    }
  } catch (const std::exception& e) {
    Fail(std::string("exception escaped: ") + e.what());
  }
  return 0;
}
