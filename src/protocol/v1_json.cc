#include "protocol/v1_json.h"

#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "protocol/json_elements.h"
#include "protocol/json_limits.h"
#include "protocol/v1_dense.h"

namespace axon::protocol {
namespace {

using json = nlohmann::json;
using tensor::DType;
using tensor::Shape;
using tensor::Tensor;
using tensor::TensorInfo;

// The shape of a nested list, following first elements ("[[1,2],[3,4]]" -> [2, 2]).
Shape ShapeOf(const json& value) {
  Shape shape;
  const json* level = &value;
  while (level->is_array()) {
    shape.push_back(static_cast<int64_t>(level->size()));
    if (level->empty()) break;
    level = &level->front();
  }
  return shape;
}

std::string InstanceShapeText(const Shape& model_shape) {
  return tensor::ShapeText(Shape(model_shape.begin() + 1, model_shape.end()));
}

bool ShapeMatches(const Shape& model_shape, const Shape& instance_shape) {
  if (model_shape.size() != instance_shape.size() + 1) return false;
  for (size_t i = 0; i < instance_shape.size(); ++i) {
    if (model_shape[i + 1] >= 0 && model_shape[i + 1] != instance_shape[i]) return false;
  }
  return true;
}

// Writes the elements of one instance into `out`, checking every list's length against `shape`
// and every scalar against the dtype.
class InstanceWriter {
 public:
  InstanceWriter(DType dtype, const Shape& shape, std::byte* out)
      : dtype_(dtype), shape_(shape), out_(out), index_(shape.size()) {}

  // `prefix` names the instance ("instances[3]"); the position inside it is only formatted
  // when there is an error, so the request path does no string work per element.
  Status Write(const json& value, const std::string& prefix, size_t depth = 0) {
    if (depth == shape_.size()) return WriteScalar(value, prefix, depth);
    if (!value.is_array() || static_cast<int64_t>(value.size()) != shape_[depth]) {
      return InvalidArgument(Where(prefix, depth) + " must be a list of " +
                             std::to_string(shape_[depth]) +
                             " (a ragged or mis-shaped nested list), got " +
                             (value.is_array() ? std::to_string(value.size()) + " elements"
                                               : std::string(value.type_name())));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      index_[depth] = i;
      if (Status s = Write(value[i], prefix, depth + 1); !s.ok()) return s;
    }
    return OkStatus();
  }

 private:
  std::string Where(const std::string& prefix, size_t depth) const {
    std::string out = prefix;
    for (size_t d = 0; d < depth; ++d) out += "[" + std::to_string(index_[d]) + "]";
    return out;
  }

  template <typename T>
  void Put(T v) {
    std::memcpy(out_, &v, sizeof(T));
    out_ += sizeof(T);
  }

  Status Mismatch(const json& value, const std::string& prefix, size_t depth) const {
    std::string got = value.is_array()    ? std::string("a list")
                      : value.is_object() ? std::string("an object")
                                          : value.dump();
    if (got.size() > 40) got = got.substr(0, 37) + "...";
    return InvalidArgument(Where(prefix, depth) + " must be " +
                           std::string(tensor::DTypeName(dtype_)) + ", got " + got);
  }

  Status WriteScalar(const json& value, const std::string& prefix, size_t depth) {
    switch (dtype_) {
      case DType::kFloat32:
      case DType::kFloat64: {
        if (!value.is_number()) return Mismatch(value, prefix, depth);
        const double v = value.get<double>();
        if (dtype_ == DType::kFloat32) {
          Put(static_cast<float>(v));
        } else {
          Put(v);
        }
        return OkStatus();
      }
      case DType::kInt32:
      case DType::kInt64:
      case DType::kUInt8: {
        if (!value.is_number_integer()) return Mismatch(value, prefix, depth);
        const bool is_unsigned = value.is_number_unsigned();
        const int64_t v =
            is_unsigned ? static_cast<int64_t>(value.get<uint64_t>()) : value.get<int64_t>();
        const bool fits = dtype_ == DType::kUInt8   ? v >= 0 && v <= 255
                          : dtype_ == DType::kInt32 ? v >= std::numeric_limits<int32_t>::min() &&
                                                          v <= std::numeric_limits<int32_t>::max()
                                                    : !(is_unsigned && v < 0);
        if (!fits) return Mismatch(value, prefix, depth);
        if (dtype_ == DType::kUInt8) Put(static_cast<uint8_t>(v));
        if (dtype_ == DType::kInt32) Put(static_cast<int32_t>(v));
        if (dtype_ == DType::kInt64) Put(v);
        return OkStatus();
      }
      case DType::kBool:
        if (!value.is_boolean()) return Mismatch(value, prefix, depth);
        Put(static_cast<uint8_t>(value.get<bool>()));
        return OkStatus();
      default:  // model inputs have native dtypes only
        break;
    }
    return Mismatch(value, prefix, depth);
  }

  DType dtype_;
  const Shape& shape_;
  std::byte* out_;
  std::vector<size_t> index_;  // position in the nested lists, for error messages
};

// The value of input `info` in `instance`, or an error naming what is missing.
StatusOr<const json*> InputOf(const json& instance, size_t index, const TensorInfo& info,
                              const tensor::Signature& signature) {
  const bool single = signature.inputs.size() == 1;
  if (single && !instance.is_object()) return &instance;
  if (!instance.is_object()) {
    std::string names;
    for (const auto& input : signature.inputs) names += (names.empty() ? "" : ", ") + input.name;
    return InvalidArgument("instances[" + std::to_string(index) +
                           "] must be an object with one entry per model input (" + names +
                           "), got " + std::string(instance.type_name()));
  }
  auto it = instance.find(info.name);
  if (it == instance.end()) {
    return InvalidArgument("instances[" + std::to_string(index) + "] lacks input \"" + info.name +
                           "\"");
  }
  return &*it;
}

Status CheckNoUnknownInputs(const json& instance, size_t index,
                            const tensor::Signature& signature) {
  if (!instance.is_object() || signature.inputs.size() == 1) return OkStatus();
  for (const auto& [key, value] : instance.items()) {
    bool known = false;
    for (const auto& input : signature.inputs) known = known || input.name == key;
    if (!known) {
      return InvalidArgument("instances[" + std::to_string(index) + "] has an unknown input \"" +
                             key + "\"; see GET <endpoint>/metadata for the model's inputs");
    }
  }
  return OkStatus();
}

std::string MismatchedInstance(const TensorInfo& info, const Shape& expected, const Shape& got,
                               size_t index) {
  return "input \"" + info.name + "\": every instance must have shape " +
         tensor::ShapeText(expected) + " (as instances[0]), got " + tensor::ShapeText(got) +
         " in instances[" + std::to_string(index) + "]";
}

// Checks, before anything is allocated, that every instance has the shape of the first (as
// far as their first elements tell) and that the tensor holds no more elements than the body
// has bytes: each element takes at least one byte of JSON, so a larger tensor means the body
// claims a shape it does not fill.
Status CheckBeforeAllocating(const json& instances, const TensorInfo& info,
                             const tensor::Signature& signature, const Shape& instance_shape,
                             size_t body_bytes) {
  for (size_t i = 1; i < instances.size(); ++i) {
    auto value = InputOf(instances[i], i, info, signature);
    if (!value.ok()) return value.status();
    const Shape got = ShapeOf(**value);
    if (got != instance_shape) {
      return InvalidArgument(MismatchedInstance(info, instance_shape, got, i));
    }
  }
  uint64_t elements = instances.size();
  for (const int64_t d : instance_shape) {
    if (d != 0 && elements > body_bytes / static_cast<uint64_t>(d)) {
      return InvalidArgument("input \"" + info.name + "\": " + std::to_string(instances.size()) +
                             " instances of shape " + tensor::ShapeText(instance_shape) +
                             " cannot fit in a body of " + std::to_string(body_bytes) +
                             " bytes (a ragged or truncated nested list)");
    }
    elements *= static_cast<uint64_t>(d);
  }
  return OkStatus();
}

StatusOr<Tensor> DecodeInput(const json& instances, const TensorInfo& info,
                             const tensor::Signature& signature, size_t body_bytes) {
  auto first = InputOf(instances[0], 0, info, signature);
  if (!first.ok()) return first.status();
  const Shape instance_shape = ShapeOf(**first);
  if (info.shape_known && !ShapeMatches(info.shape, instance_shape)) {
    return InvalidArgument("input \"" + info.name + "\" expects shape " +
                           InstanceShapeText(info.shape) + " per instance (model shape " +
                           tensor::ShapeText(info.shape) + "), got " +
                           tensor::ShapeText(instance_shape) + " in instances[0]");
  }
  if (Status s = CheckBeforeAllocating(instances, info, signature, instance_shape, body_bytes);
      !s.ok()) {
    return s;
  }
  Shape shape{static_cast<int64_t>(instances.size())};
  shape.insert(shape.end(), instance_shape.begin(), instance_shape.end());
  Tensor out = Tensor::Zeros(info.name, info.dtype, shape);
  const size_t row = out.RowBytes();
  std::string where;
  for (size_t i = 0; i < instances.size(); ++i) {
    auto value = InputOf(instances[i], i, info, signature);
    if (!value.ok()) return value.status();
    where = signature.inputs.size() == 1
                ? "instances[" + std::to_string(i) + "]"
                : "instances[" + std::to_string(i) + "][\"" + info.name + "\"]";
    InstanceWriter writer(info.dtype, instance_shape, out.data.data() + i * row);
    if (Status s = writer.Write(**value, where); !s.ok()) return s;
  }
  return out;
}

// Appends `count` elements of `t` starting at flat index `offset`, nested by `shape[depth:]`.
void AppendNested(std::string& out, const Tensor& t, size_t depth, size_t& offset) {
  if (depth == t.shape.size()) {
    AppendJsonElement(out, t, offset);
    ++offset;
    return;
  }
  out += '[';
  for (int64_t i = 0; i < t.shape[depth]; ++i) {
    if (i > 0) out += ',';
    AppendNested(out, t, depth + 1, offset);
  }
  out += ']';
}

void AppendRow(std::string& out, const Tensor& t, int64_t row) {
  const int64_t per_row =
      t.shape.size() <= 1 ? 1 : tensor::ElementCount(Shape(t.shape.begin() + 1, t.shape.end()));
  size_t offset = static_cast<size_t>(row * per_row);
  AppendNested(out, t, 1, offset);
}

}  // namespace

StatusOr<std::vector<Tensor>> DecodeV1Instances(std::string_view body,
                                                const tensor::Signature& signature) {
  if (signature.inputs.size() == 1) {
    if (auto dense = DecodeV1Dense(body, signature.inputs[0])) {
      std::vector<Tensor> tensors;
      tensors.push_back(*std::move(dense));
      return tensors;
    }
  }
  return DecodeV1InstancesGeneral(body, signature);
}

StatusOr<std::vector<Tensor>> DecodeV1InstancesGeneral(std::string_view body,
                                                       const tensor::Signature& signature) {
  if (Status s = CheckJsonNesting(body, kMaxV1Depth); !s.ok()) {
    return InvalidArgument(s.message() + "; a V1 body is {\"instances\": [...]} of nested lists");
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgument("malformed JSON body; send {\"instances\": [...]}");
  }
  auto it = doc.is_object() ? doc.find("instances") : doc.end();
  if (it == doc.end() || !it->is_array() || it->empty()) {
    return InvalidArgument(
        "the body must be {\"instances\": [...]} with at least one instance (one sample each); "
        "see GET <endpoint>/metadata for the model's inputs");
  }
  const json& instances = *it;
  for (size_t i = 0; i < instances.size(); ++i) {
    if (Status s = CheckNoUnknownInputs(instances[i], i, signature); !s.ok()) return s;
  }
  std::vector<Tensor> tensors;
  tensors.reserve(signature.inputs.size());
  for (const auto& info : signature.inputs) {
    auto t = DecodeInput(instances, info, signature, body.size());
    if (!t.ok()) return t.status();
    tensors.push_back(std::move(t).value());
  }
  return tensors;
}

std::string EncodeV1Predictions(std::span<const Tensor> outputs, int64_t begin, int64_t count) {
  std::string out = "{\"predictions\":[";
  for (int64_t row = begin; row < begin + count; ++row) {
    if (row > begin) out += ',';
    if (outputs.size() == 1) {
      AppendRow(out, outputs[0], row);
      continue;
    }
    out += '{';
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (k > 0) out += ',';
      out += json(outputs[k].name).dump();
      out += ':';
      AppendRow(out, outputs[k], row);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace axon::protocol
