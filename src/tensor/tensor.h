// Dense tensors and model signatures: the currency between request codecs (V1 JSON, the Open
// Inference Protocol) and what answers them (native model backends, Python predictors).
//
// Plain values, no runtime dependencies: every backend and codec links this and nothing heavier.
// Not synchronized; copy or move freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace axon::tensor {

// Element types. The first six are the native ones: what the native model runtimes take and
// what a spec may declare (IsNativeDType). The others travel through the Open Inference
// Protocol to Python predictors and back, and come out of models (a TorchScript int8 output).
// kBytes elements are byte strings of any length; see the layout of Tensor::data below.
enum class DType : uint8_t {
  kFloat32,
  kFloat64,
  kInt32,
  kInt64,
  kUInt8,
  kBool,
  kInt8,
  kInt16,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat16,
  kBytes,
};

// numpy-style names, as used in specs and metadata: "float32", "int64", ..., "bytes".
std::string_view DTypeName(DType dtype);
std::optional<DType> DTypeFromName(std::string_view name);  // any dtype
// Bytes per element; 0 for kBytes (variable).
size_t DTypeSize(DType dtype);
bool IsNativeDType(DType dtype);
// The native names, for error messages: "float32, float64, int32, int64, uint8, bool".
std::string NativeDTypeNames();

using Shape = std::vector<int64_t>;         // -1: any size
std::string ShapeText(const Shape& shape);  // "[-1, 3, 32, 32]"
int64_t ElementCount(const Shape& shape);   // product of dims (all must be >= 0)
// The product of untrusted dims: nullopt when a dim is negative or the product exceeds 2^62.
std::optional<uint64_t> CheckedElementCount(std::span<const int64_t> shape);

// What a model expects or returns for one named tensor. `shape` includes the leading batch
// dimension, -1 where any size is allowed; an empty shape with `shape_known` false means the
// model does not say.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  bool shape_known = true;
};

struct Signature {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

// {"inputs": [{"name", "dtype", "shape"}], "outputs": [...]} (shape null when unknown).
nlohmann::json SignatureToJson(const Signature& signature);

// A dense, row-major tensor that owns its bytes, little-endian. For kBytes, `data` holds each
// element as a 4-byte little-endian length followed by that many bytes (the layout of the
// binary tensor extension of the Open Inference Protocol); the row functions below do not apply
// to kBytes.
struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<std::byte> data;  // ElementCount(shape) * DTypeSize(dtype) bytes (fixed-size dtypes)

  static Tensor Zeros(std::string name, DType dtype, Shape shape);

  template <typename T>
  std::span<T> values() {
    return {reinterpret_cast<T*>(data.data()), data.size() / sizeof(T)};
  }
  template <typename T>
  std::span<const T> values() const {
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  // Bytes of one row (one sample along dimension 0).
  size_t RowBytes() const;
};

// kBytes data: appends one element; splits `data` into exactly `count` elements (views into
// `data`), or nullopt when it does not hold exactly that many well-formed ones.
void AppendBytesElement(std::vector<std::byte>& data, std::string_view element);
std::optional<std::vector<std::string_view>> SplitBytesElements(std::span<const std::byte> data,
                                                                uint64_t count);

// Concatenates tensors of equal dtype and equal shape after dimension 0 along dimension 0.
// Callers check compatibility (RowsCompatible) first.
Tensor ConcatRows(std::span<const Tensor* const> parts);
bool RowsCompatible(const Tensor& a, const Tensor& b);
// Rows [begin, begin + count) of `t` as a new tensor.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count);

}  // namespace axon::tensor
