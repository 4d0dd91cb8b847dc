#include "tensor/tensor.h"

#include <cstring>

namespace axon::tensor {
namespace {

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::kFloat32, "float32", 4}, {DType::kFloat64, "float64", 8}, {DType::kInt32, "int32", 4},
    {DType::kInt64, "int64", 8},     {DType::kUInt8, "uint8", 1},     {DType::kBool, "bool", 1},
};

const DTypeEntry& EntryFor(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }

}  // namespace

std::string_view DTypeName(DType dtype) { return EntryFor(dtype).name; }
size_t DTypeSize(DType dtype) { return EntryFor(dtype).size; }

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& entry : kDTypes) {
    if (entry.name == name) return entry.dtype;
  }
  return std::nullopt;
}

std::string DTypeNames() {
  std::string out;
  for (const auto& entry : kDTypes) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

std::string ShapeText(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

int64_t ElementCount(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

nlohmann::json SignatureToJson(const Signature& signature) {
  auto list = [](const std::vector<TensorInfo>& infos) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& info : infos) {
      out.push_back({{"name", info.name},
                     {"dtype", DTypeName(info.dtype)},
                     {"shape", info.shape_known ? nlohmann::json(info.shape) : nullptr}});
    }
    return out;
  };
  return {{"inputs", list(signature.inputs)}, {"outputs", list(signature.outputs)}};
}

Tensor Tensor::Zeros(std::string name, DType dtype, Shape shape) {
  Tensor t{std::move(name), dtype, std::move(shape), {}};
  t.data.resize(static_cast<size_t>(ElementCount(t.shape)) * DTypeSize(dtype));
  return t;
}

size_t Tensor::RowBytes() const {
  if (shape.empty() || shape[0] == 0) return 0;
  return data.size() / static_cast<size_t>(shape[0]);
}

bool RowsCompatible(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.shape.size() == b.shape.size() && !a.shape.empty() &&
         std::equal(a.shape.begin() + 1, a.shape.end(), b.shape.begin() + 1);
}

Tensor ConcatRows(std::span<const Tensor* const> parts) {
  Tensor out{parts[0]->name, parts[0]->dtype, parts[0]->shape, {}};
  size_t bytes = 0;
  out.shape[0] = 0;
  for (const Tensor* part : parts) {
    out.shape[0] += part->shape[0];
    bytes += part->data.size();
  }
  out.data.resize(bytes);
  size_t offset = 0;
  for (const Tensor* part : parts) {
    if (!part->data.empty())
      std::memcpy(out.data.data() + offset, part->data.data(), part->data.size());
    offset += part->data.size();
  }
  return out;
}

Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count) {
  Tensor out{t.name, t.dtype, t.shape, {}};
  out.shape[0] = count;
  const size_t row = t.RowBytes();
  const auto* first = t.data.data() + static_cast<size_t>(begin) * row;
  out.data.assign(first, first + static_cast<size_t>(count) * row);
  return out;
}

}  // namespace axon::tensor
