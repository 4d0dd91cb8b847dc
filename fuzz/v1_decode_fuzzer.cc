// Fuzzes protocol::DecodeV1Instances: the input is a request body, decoded against each of the
// signatures below (declared and unknown shapes, every dtype, one and several inputs).
//
// Checked besides the sanitizers: decoding allocates no block larger than kMaxBytesPerByte per
// byte of body (plus some slack), so a small body cannot make a replica allocate gigabytes; no
// exception escapes; an accepted body gives one tensor per input with one row per instance and
// exactly as many bytes as its shape and dtype say; and encoding those tensors as V1 and
// decoding that again gives the same tensors (when every value is finite, since JSON cannot
// carry the others); and where the shortcut for the usual body (v1_dense.h) takes the body, the
// general decoder accepts it too and gives the same bytes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <sanitizer/allocator_interface.h>

#include "protocol/v1_dense.h"
#include "protocol/v1_json.h"

namespace {

using axon::tensor::DType;
using axon::tensor::Signature;
using axon::tensor::Tensor;
using axon::tensor::TensorInfo;

TensorInfo Input(std::string name, DType dtype, axon::tensor::Shape shape) {
  return {std::move(name), dtype, std::move(shape), /*shape_known=*/true};
}

TensorInfo UnknownShape(std::string name, DType dtype) {
  return {std::move(name), dtype, {}, /*shape_known=*/false};
}

const std::vector<Signature>& Signatures() {
  static const std::vector<Signature> signatures = {
      // A tabular model: 4 features per instance (iris, XGBoost).
      {{Input("x", DType::kFloat32, {-1, 4})}, {}},
      // Float64 images of a fixed shape (like the tabular one, read by the shortcut).
      {{Input("x", DType::kFloat64, {-1, 2, 3})}, {}},
      // A TorchScript model whose spec declares no inputs: any shape goes.
      {{UnknownShape("x", DType::kFloat32)}, {}},
      // Variable-length integer sequences (token ids) and a fixed uint8 image.
      {{Input("ids", DType::kInt64, {-1, -1})}, {}},
      {{Input("image", DType::kUInt8, {-1, 2, 2, 3})}, {}},
      // Several inputs: instances are objects of input name -> nested list.
      {{Input("image", DType::kFloat64, {-1, 2, -1}), Input("mask", DType::kBool, {-1, 3}),
        Input("len", DType::kInt32, {-1})},
       {}},
      {{UnknownShape("a", DType::kFloat32), UnknownShape("b", DType::kInt32)}, {}},
  };
  return signatures;
}

// The largest block allocated while `tracking` (malloc hooks; this target is single-threaded).
// A valid body needs at most a few bytes of tensor and a JSON node per byte; kMaxBytesPerByte
// leaves room for vector growth.
constexpr size_t kMaxBytesPerByte = 64;
constexpr size_t kAllocationSlack = 4096;
bool tracking = false;
size_t largest_block = 0;

void OnMalloc(const volatile void*, size_t size) {
  if (tracking && size > largest_block) largest_block = size;
}
void OnFree(const volatile void*) {}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "v1_decode: %s\n", what.c_str());
  std::abort();
}

bool AllFinite(const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors) {
    if (t.dtype == DType::kFloat32) {
      for (float v : t.values<float>()) {
        if (!std::isfinite(v)) return false;
      }
    } else if (t.dtype == DType::kFloat64) {
      for (double v : t.values<double>()) {
        if (!std::isfinite(v)) return false;
      }
    }
  }
  return true;
}

void CheckDecoded(const std::vector<Tensor>& tensors, const Signature& signature) {
  if (tensors.size() != signature.inputs.size()) Fail("one tensor per input expected");
  const int64_t rows = tensors[0].shape.empty() ? -1 : tensors[0].shape[0];
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    const TensorInfo& info = signature.inputs[i];
    if (t.name != info.name || t.dtype != info.dtype) Fail("tensor name or dtype differs");
    if (t.shape.empty() || t.shape[0] != rows || rows < 1) Fail("rows differ between inputs");
    const size_t bytes =
        static_cast<size_t>(axon::tensor::ElementCount(t.shape)) * axon::tensor::DTypeSize(t.dtype);
    if (t.data.size() != bytes) Fail("tensor bytes do not match its shape");
    if (info.shape_known && t.shape.size() != info.shape.size()) Fail("rank differs from model");
  }
}

// Equal values; floats compare as numbers (the encoder writes -0 as "-0", which JSON reads back
// as the integer 0).
bool SameValues(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape) return false;
  if (a.dtype == DType::kFloat32) {
    auto x = a.values<float>();
    auto y = b.values<float>();
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  }
  if (a.dtype == DType::kFloat64) {
    auto x = a.values<double>();
    auto y = b.values<double>();
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  }
  return a.data == b.data;
}

// Encode the decoded tensors as V1 and decode that again: the same tensors must come back.
void CheckRoundTrip(const std::vector<Tensor>& tensors, const Signature& signature) {
  if (!AllFinite(tensors)) return;
  std::string body = axon::protocol::EncodeV1Predictions(tensors, 0, tensors[0].shape[0]);
  const std::string_view kKey = "{\"predictions\":";
  if (!body.starts_with(kKey)) Fail("encoded body does not start with predictions");
  body = "{\"instances\":" + body.substr(kKey.size());
  auto again = axon::protocol::DecodeV1Instances(body, signature);
  if (!again.ok()) Fail("re-decoding an encoded body failed: " + again.status().message());
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!SameValues(tensors[i], (*again)[i])) Fail("round trip changed " + tensors[i].name);
  }
}

// The shortcut and the general decoder agree on every body the shortcut takes.
void CheckShortcut(std::string_view body, const Signature& signature) {
  if (signature.inputs.size() != 1) return;
  auto dense = axon::protocol::DecodeV1Dense(body, signature.inputs[0]);
  if (!dense) return;
  auto general = axon::protocol::DecodeV1InstancesGeneral(body, signature);
  if (!general.ok())
    Fail("the shortcut took a body the general decoder refuses: " + general.status().message());
  const Tensor& g = (*general)[0];
  if (dense->shape != g.shape || dense->data != g.data) Fail("the shortcut decoded differently");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  __sanitizer_install_malloc_and_free_hooks(OnMalloc, OnFree);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    for (const Signature& signature : Signatures()) {
      largest_block = 0;
      tracking = true;
      auto tensors = axon::protocol::DecodeV1Instances(body, signature);
      tracking = false;
      if (largest_block > kMaxBytesPerByte * size + kAllocationSlack) {
        Fail("decoding a body of " + std::to_string(size) + " bytes allocated a block of " +
             std::to_string(largest_block) + " bytes");
      }
      if (!tensors.ok()) {
        if (tensors.status().message().empty()) Fail("an error without a message");
        continue;
      }
      CheckDecoded(*tensors, signature);
      CheckRoundTrip(*tensors, signature);
      CheckShortcut(body, signature);
    }
  } catch (const std::exception& e) {
    Fail(std::string("exception escaped DecodeV1Instances: ") + e.what());
  }
  return 0;
}
