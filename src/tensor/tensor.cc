#include "tensor/tensor.h"

#include <bit>
#include <cstring>

namespace axon::tensor {
namespace {

// Tensors are little-endian in memory and on every wire; so is every machine Axon runs on.
static_assert(std::endian::native == std::endian::little);

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  size_t size;
  bool native;
};

// In enum order.
constexpr DTypeEntry kDTypes[] = {
    {DType::kFloat32, "float32", 4, true}, {DType::kFloat64, "float64", 8, true},
    {DType::kInt32, "int32", 4, true},     {DType::kInt64, "int64", 8, true},
    {DType::kUInt8, "uint8", 1, true},     {DType::kBool, "bool", 1, true},
    {DType::kInt8, "int8", 1, false},      {DType::kInt16, "int16", 2, false},
    {DType::kUInt16, "uint16", 2, false},  {DType::kUInt32, "uint32", 4, false},
    {DType::kUInt64, "uint64", 8, false},  {DType::kFloat16, "float16", 2, false},
    {DType::kBytes, "bytes", 0, false},
};

const DTypeEntry& EntryFor(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }

}  // namespace

std::string_view DTypeName(DType dtype) { return EntryFor(dtype).name; }
size_t DTypeSize(DType dtype) { return EntryFor(dtype).size; }
bool IsNativeDType(DType dtype) { return EntryFor(dtype).native; }

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& entry : kDTypes) {
    if (entry.name == name) return entry.dtype;
  }
  return std::nullopt;
}

std::string NativeDTypeNames() {
  std::string out;
  for (const auto& entry : kDTypes) {
    if (!entry.native) continue;
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

std::optional<uint64_t> CheckedElementCount(std::span<const int64_t> shape) {
  constexpr uint64_t kMax = uint64_t{1} << 62;
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    const auto dim = static_cast<uint64_t>(d);
    if (dim != 0 && n > kMax / dim) return std::nullopt;
    n *= dim;
  }
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

void AppendBytesElement(std::vector<std::byte>& data, std::string_view element) {
  const auto length = static_cast<uint32_t>(element.size());
  const size_t at = data.size();
  data.resize(at + sizeof(length) + element.size());
  std::memcpy(data.data() + at, &length, sizeof(length));
  if (!element.empty()) std::memcpy(data.data() + at + sizeof(length), element.data(), length);
}

std::optional<std::vector<std::string_view>> SplitBytesElements(std::span<const std::byte> data,
                                                                uint64_t count) {
  // Every element takes at least its 4-byte length: more than size / 4 cannot fit.
  if (count > data.size() / sizeof(uint32_t)) return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(count);
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t length = 0;
    if (data.size() - at < sizeof(length)) return std::nullopt;
    std::memcpy(&length, data.data() + at, sizeof(length));
    at += sizeof(length);
    if (data.size() - at < length) return std::nullopt;
    out.emplace_back(reinterpret_cast<const char*>(data.data() + at), length);
    at += length;
  }
  if (at != data.size()) return std::nullopt;
  return out;
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
