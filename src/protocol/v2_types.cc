#include "protocol/v2_types.h"

namespace axon::protocol::v2 {
namespace {

using tensor::DType;

struct Entry {
  DType dtype;
  std::string_view name;
};

// In the protocol's order (the table of its specification).
constexpr Entry kDataTypes[] = {
    {DType::kBool, "BOOL"},     {DType::kUInt8, "UINT8"},   {DType::kUInt16, "UINT16"},
    {DType::kUInt32, "UINT32"}, {DType::kUInt64, "UINT64"}, {DType::kInt8, "INT8"},
    {DType::kInt16, "INT16"},   {DType::kInt32, "INT32"},   {DType::kInt64, "INT64"},
    {DType::kFloat16, "FP16"},  {DType::kFloat32, "FP32"},  {DType::kFloat64, "FP64"},
    {DType::kBytes, "BYTES"},
};

}  // namespace

std::string_view DataTypeName(DType dtype) {
  for (const auto& entry : kDataTypes) {
    if (entry.dtype == dtype) return entry.name;
  }
  return "BYTES";  // unreachable: the table covers every DType
}

std::optional<DType> DataTypeFromName(std::string_view name) {
  for (const auto& entry : kDataTypes) {
    if (entry.name == name) return entry.dtype;
  }
  return std::nullopt;
}

std::string DataTypeNames() {
  std::string out;
  for (const auto& entry : kDataTypes) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

}  // namespace axon::protocol::v2
