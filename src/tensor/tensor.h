// Dense tensors and model signatures: the currency between request codecs (V1 JSON today, the
// Open Inference Protocol later) and native model backends (TorchScript, ONNX, XGBoost).
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

enum class DType : uint8_t { kFloat32, kFloat64, kInt32, kInt64, kUInt8, kBool };

// numpy-style names, as used in specs and metadata: "float32", "int64", ...
std::string_view DTypeName(DType dtype);
std::optional<DType> DTypeFromName(std::string_view name);
size_t DTypeSize(DType dtype);
// The allowed names, for error messages: "float32, float64, ...".
std::string DTypeNames();

using Shape = std::vector<int64_t>;         // -1: any size
std::string ShapeText(const Shape& shape);  // "[-1, 3, 32, 32]"
int64_t ElementCount(const Shape& shape);   // product of dims (all must be >= 0)

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

// A dense, row-major tensor that owns its bytes.
struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<std::byte> data;  // ElementCount(shape) * DTypeSize(dtype) bytes

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

// Concatenates tensors of equal dtype and equal shape after dimension 0 along dimension 0.
// Callers check compatibility (RowsCompatible) first.
Tensor ConcatRows(std::span<const Tensor* const> parts);
bool RowsCompatible(const Tensor& a, const Tensor& b);
// Rows [begin, begin + count) of `t` as a new tensor.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count);

}  // namespace axon::tensor
