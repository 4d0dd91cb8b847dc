#include "backends/onnx/onnx_signature.h"

#include <cstdint>
#include <optional>
#include <set>

namespace axon::backends {
namespace {

using tensor::DType;

// Field numbers from onnx.proto.
constexpr uint32_t kModelGraph = 7;
constexpr uint32_t kGraphInitializer = 5;
constexpr uint32_t kGraphInput = 11;
constexpr uint32_t kGraphOutput = 12;
constexpr uint32_t kTensorProtoName = 8;
constexpr uint32_t kValueInfoName = 1;
constexpr uint32_t kValueInfoType = 2;
constexpr uint32_t kTypeTensor = 1;
constexpr uint32_t kTensorElemType = 1;
constexpr uint32_t kTensorShape = 2;
constexpr uint32_t kShapeDim = 1;
constexpr uint32_t kDimValue = 1;

// One field of a protobuf message: its number and, by wire type, an integer or bytes.
struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Iterates over the fields of one serialized message.
class MessageReader {
 public:
  explicit MessageReader(std::string_view data) : data_(data) {}

  // False at the end; sets `failed()` on malformed input.
  bool Next(WireField& field) {
    if (pos_ >= data_.size() || failed_) return false;
    uint64_t key = 0;
    if (!ReadVarint(key)) return Fail();
    field.number = static_cast<uint32_t>(key >> 3);
    field.wire_type = static_cast<uint32_t>(key & 7);
    switch (field.wire_type) {
      case 0:
        return ReadVarint(field.varint) || Fail();
      case 1:
        return Skip(8);
      case 5:
        return Skip(4);
      case 2: {
        uint64_t size = 0;
        if (!ReadVarint(size) || size > data_.size() - pos_) return Fail();
        field.bytes = data_.substr(pos_, size);
        pos_ += size;
        return true;
      }
      default:
        return Fail();
    }
  }
  bool failed() const { return failed_; }

 private:
  bool ReadVarint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      out |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Skip(size_t n) {
    if (n > data_.size() - pos_) return Fail();
    pos_ += n;
    return true;
  }
  bool Fail() {
    failed_ = true;
    return false;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// onnx.TensorProto.DataType values.
std::optional<DType> DTypeOfElemType(uint64_t elem_type) {
  switch (elem_type) {
    case 1:
      return DType::kFloat32;
    case 2:
      return DType::kUInt8;
    case 6:
      return DType::kInt32;
    case 7:
      return DType::kInt64;
    case 9:
      return DType::kBool;
    case 11:
      return DType::kFloat64;
    default:
      return std::nullopt;
  }
}

tensor::Shape ReadShape(std::string_view shape_bytes) {
  tensor::Shape shape;
  MessageReader shape_reader(shape_bytes);
  WireField dim;
  while (shape_reader.Next(dim)) {
    if (dim.number != kShapeDim || dim.wire_type != 2) continue;
    int64_t value = -1;
    MessageReader dim_reader(dim.bytes);
    WireField f;
    while (dim_reader.Next(f)) {
      if (f.number == kDimValue && f.wire_type == 0 && static_cast<int64_t>(f.varint) > 0) {
        value = static_cast<int64_t>(f.varint);
      }
    }
    shape.push_back(value);
  }
  return shape;
}

StatusOr<tensor::TensorInfo> ReadValueInfo(std::string_view bytes) {
  tensor::TensorInfo info;
  info.shape_known = false;
  uint64_t elem_type = 0;
  MessageReader reader(bytes);
  WireField f;
  while (reader.Next(f)) {
    if (f.number == kValueInfoName && f.wire_type == 2) info.name = f.bytes;
    if (f.number != kValueInfoType || f.wire_type != 2) continue;
    MessageReader type_reader(f.bytes);
    WireField t;
    while (type_reader.Next(t)) {
      if (t.number != kTypeTensor || t.wire_type != 2) continue;
      MessageReader tensor_reader(t.bytes);
      WireField e;
      while (tensor_reader.Next(e)) {
        if (e.number == kTensorElemType && e.wire_type == 0) elem_type = e.varint;
        if (e.number == kTensorShape && e.wire_type == 2) {
          info.shape = ReadShape(e.bytes);
          info.shape_known = true;
        }
      }
    }
  }
  const std::optional<DType> dtype = DTypeOfElemType(elem_type);
  if (!dtype) {
    return InvalidArgument("tensor \"" + info.name + "\" has ONNX element type " +
                           std::to_string(elem_type) + ", which is not supported (use one of " +
                           tensor::NativeDTypeNames() + ")");
  }
  info.dtype = *dtype;
  return info;
}

}  // namespace

StatusOr<tensor::Signature> ReadOnnxSignature(std::string_view model_bytes) {
  MessageReader model(model_bytes);
  WireField f;
  std::optional<std::string_view> graph;
  while (model.Next(f)) {
    if (f.number == kModelGraph && f.wire_type == 2) graph = f.bytes;
  }
  if (model.failed() || !graph) {
    return InvalidArgument("not an ONNX model (no graph found in the protobuf)");
  }
  std::set<std::string_view> initializers;
  std::vector<std::string_view> inputs, outputs;
  MessageReader graph_reader(*graph);
  while (graph_reader.Next(f)) {
    if (f.wire_type != 2) continue;
    if (f.number == kGraphInput) inputs.push_back(f.bytes);
    if (f.number == kGraphOutput) outputs.push_back(f.bytes);
    if (f.number == kGraphInitializer) {
      MessageReader init(f.bytes);
      WireField g;
      while (init.Next(g)) {
        if (g.number == kTensorProtoName && g.wire_type == 2) initializers.insert(g.bytes);
      }
    }
  }
  if (graph_reader.failed()) return InvalidArgument("not an ONNX model (malformed graph)");
  tensor::Signature signature;
  for (std::string_view bytes : inputs) {
    auto info = ReadValueInfo(bytes);
    if (!info.ok()) return info.status();
    if (!initializers.contains(info->name)) signature.inputs.push_back(std::move(info).value());
  }
  for (std::string_view bytes : outputs) {
    auto info = ReadValueInfo(bytes);
    if (!info.ok()) return info.status();
    signature.outputs.push_back(std::move(info).value());
  }
  if (signature.inputs.empty() || signature.outputs.empty()) {
    return InvalidArgument("the ONNX graph declares no inputs or no outputs");
  }
  return signature;
}

}  // namespace axon::backends
