#include "protocol/v2_request.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "protocol/json_limits.h"
#include "protocol/v2_types.h"
#include "tensor/float16.h"

namespace axon::protocol::v2 {
namespace {

using json = nlohmann::json;
using tensor::DType;
using tensor::Shape;
using tensor::Tensor;

std::string Quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

// A JSON value in a message, shortened: bodies are untrusted and may be large.
std::string Excerpt(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

// Writes the JSON elements of one input into its tensor, checking each against the datatype.
// The data are flat (a list of scalars, as many as the shape holds) or nested as the shape
// says; the position of an element is formatted only when there is an error.
class DataWriter {
 public:
  DataWriter(Tensor& out, uint64_t count) : out_(out), count_(count) {}

  Status Write(const json& data) {
    if (!data.is_array()) {
      return Fail("data must be a list (flat, or nested as the shape), got " +
                  std::string(data.type_name()));
    }
    const bool flat = data.empty() || !data.front().is_array();
    if (!flat) {
      index_.assign(out_.shape.size(), 0);
      return WriteNested(data, 0);
    }
    if (data.size() != count_) {
      return Fail("data has " + std::to_string(data.size()) + " elements, but shape " +
                  tensor::ShapeText(out_.shape) + " holds " + std::to_string(count_));
    }
    for (size_t i = 0; i < data.size(); ++i) {
      if (Status s = WriteScalar(data[i]); !s.ok()) {
        return Fail("data[" + std::to_string(i) + "] " + s.message());
      }
    }
    return OkStatus();
  }

 private:
  Status Fail(const std::string& what) const {
    return InvalidArgument("input " + Quoted(out_.name) + ": " + what);
  }

  std::string Where(size_t depth) const {
    std::string out = "data";
    for (size_t d = 0; d < depth; ++d) out += "[" + std::to_string(index_[d]) + "]";
    return out;
  }

  Status WriteNested(const json& value, size_t depth) {
    if (depth == out_.shape.size()) {
      if (Status s = WriteScalar(value); !s.ok()) return Fail(Where(depth) + " " + s.message());
      return OkStatus();
    }
    const auto size = static_cast<uint64_t>(out_.shape[depth]);
    if (!value.is_array() || value.size() != size) {
      return Fail(Where(depth) + " must be a list of " + std::to_string(size) + " (as shape " +
                  tensor::ShapeText(out_.shape) + " says), got " +
                  (value.is_array() ? std::to_string(value.size()) + " elements"
                                    : std::string(value.type_name())));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      index_[depth] = i;
      if (Status s = WriteNested(value[i], depth + 1); !s.ok()) return s;
    }
    return OkStatus();
  }

  template <typename T>
  void Put(T v) {
    std::memcpy(out_.data.data() + written_ * sizeof(T), &v, sizeof(T));
    ++written_;
  }

  Status Mismatch(const json& value) const {
    return InvalidArgument("must be " + std::string(DataTypeName(out_.dtype)) + ", got " +
                           Excerpt(value));
  }

  template <typename T>
  Status PutInteger(const json& value) {
    if (!value.is_number_integer()) return Mismatch(value);
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (!std::in_range<T>(v)) return Mismatch(value);
      Put(static_cast<T>(v));
      return OkStatus();
    }
    const auto v = value.get<int64_t>();
    if (!std::in_range<T>(v)) return Mismatch(value);
    Put(static_cast<T>(v));
    return OkStatus();
  }

  Status PutFloat(const json& value) {
    if (!value.is_number()) return Mismatch(value);
    const double v = value.get<double>();
    if (out_.dtype == DType::kFloat64) {
      Put(v);
      return OkStatus();
    }
    const auto f = static_cast<float>(v);
    const uint16_t half = tensor::FloatToHalf(f);
    if (!std::isfinite(f) || (out_.dtype == DType::kFloat16 && (half & 0x7c00U) == 0x7c00U)) {
      return InvalidArgument("must be " + std::string(DataTypeName(out_.dtype)) + ", got " +
                             Excerpt(value) + ", which is out of its range");
    }
    if (out_.dtype == DType::kFloat16) {
      Put(half);
    } else {
      Put(f);
    }
    return OkStatus();
  }

  Status WriteScalar(const json& value) {
    if (written_ >= count_) return InvalidArgument("is past the elements of the shape");
    switch (out_.dtype) {
      case DType::kBool:
        if (!value.is_boolean()) return Mismatch(value);
        Put(static_cast<uint8_t>(value.get<bool>()));
        return OkStatus();
      case DType::kUInt8:
        return PutInteger<uint8_t>(value);
      case DType::kUInt16:
        return PutInteger<uint16_t>(value);
      case DType::kUInt32:
        return PutInteger<uint32_t>(value);
      case DType::kUInt64:
        return PutInteger<uint64_t>(value);
      case DType::kInt8:
        return PutInteger<int8_t>(value);
      case DType::kInt16:
        return PutInteger<int16_t>(value);
      case DType::kInt32:
        return PutInteger<int32_t>(value);
      case DType::kInt64:
        return PutInteger<int64_t>(value);
      case DType::kFloat16:
      case DType::kFloat32:
      case DType::kFloat64:
        return PutFloat(value);
      case DType::kBytes:
        if (!value.is_string()) return Mismatch(value);
        tensor::AppendBytesElement(out_.data, value.get_ref<const std::string&>());
        ++written_;
        return OkStatus();
    }
    return Mismatch(value);
  }

  Tensor& out_;
  const uint64_t count_;
  uint64_t written_ = 0;
  std::vector<size_t> index_;  // position in nested data, for error messages
};

// The binary data of one input, checked against its datatype and shape.
Status FromBinary(std::string_view chunk, uint64_t count, Tensor& out) {
  const std::string input = "input " + Quoted(out.name) + ": ";
  const auto* bytes = reinterpret_cast<const std::byte*>(chunk.data());
  if (out.dtype == DType::kBytes) {
    if (!tensor::SplitBytesElements({bytes, chunk.size()}, count)) {
      return InvalidArgument(input + "its " + std::to_string(chunk.size()) +
                             " bytes of binary data are not " + std::to_string(count) +
                             " BYTES elements (each a 4-byte little-endian length, then that "
                             "many bytes), as shape " +
                             tensor::ShapeText(out.shape) + " needs");
    }
  } else {
    const uint64_t size = tensor::DTypeSize(out.dtype);
    const bool overflows = count > UINT64_MAX / size;  // counts are at most 2^62, sizes 8
    if (overflows || count * size != chunk.size()) {
      return InvalidArgument(input + "shape " + tensor::ShapeText(out.shape) + " of " +
                             std::string(DataTypeName(out.dtype)) + " needs " +
                             (overflows ? "more than 2^64" : std::to_string(count * size)) +
                             " bytes, but binary_data_size is " + std::to_string(chunk.size()));
    }
  }
  if (out.dtype == DType::kBool) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (chunk[i] != 0 && chunk[i] != 1) {
        return InvalidArgument(input + "BOOL element " + std::to_string(i) + " is byte " +
                               std::to_string(static_cast<unsigned char>(chunk[i])) +
                               "; a BOOL is one byte, 0 or 1");
      }
    }
  }
  out.data.assign(bytes, bytes + chunk.size());
  return OkStatus();
}

// What the JSON of one input says, before its data are read.
struct InputHeader {
  Tensor tensor;  // name, dtype, shape; no data yet
  uint64_t count = 0;
  std::optional<uint64_t> binary_size;
  const json* data = nullptr;
};

StatusOr<Shape> ReadShape(const json& input, const std::string& name) {
  const auto it = input.find("shape");
  const std::string where = "input " + Quoted(name) + ": ";
  if (it == input.end() || !it->is_array()) {
    return InvalidArgument(where + "shape must be a list of sizes, like [1, 64]");
  }
  if (it->size() > kMaxRank) {
    return InvalidArgument(where + "shape has " + std::to_string(it->size()) +
                           " dimensions; at most " + std::to_string(kMaxRank) + " are allowed");
  }
  Shape shape;
  for (const json& dim : *it) {
    if (!dim.is_number_integer() || (!dim.is_number_unsigned() && dim.get<int64_t>() < 0) ||
        (dim.is_number_unsigned() && dim.get<uint64_t>() > (uint64_t{1} << 62))) {
      return InvalidArgument(where + "shape must be a list of sizes >= 0, got " + Excerpt(*it));
    }
    shape.push_back(dim.get<int64_t>());
  }
  return shape;
}

StatusOr<InputHeader> ReadInputHeader(const json& input, size_t index) {
  const std::string at = "inputs[" + std::to_string(index) + "]";
  if (!input.is_object()) {
    return InvalidArgument(at + " must be an object {name, shape, datatype, data}, got " +
                           std::string(input.type_name()));
  }
  const auto name = input.find("name");
  if (name == input.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return InvalidArgument(at + ".name must be a non-empty string");
  }
  InputHeader out;
  out.tensor.name = name->get<std::string>();
  const std::string where = "input " + Quoted(out.tensor.name) + ": ";
  const auto datatype = input.find("datatype");
  const std::optional<DType> dtype = datatype != input.end() && datatype->is_string()
                                         ? DataTypeFromName(datatype->get_ref<const std::string&>())
                                         : std::nullopt;
  if (!dtype) {
    return InvalidArgument(where + "datatype must be one of " + DataTypeNames() + ", got " +
                           (datatype == input.end() ? "nothing" : Excerpt(*datatype)));
  }
  out.tensor.dtype = *dtype;
  auto shape = ReadShape(input, out.tensor.name);
  if (!shape.ok()) return shape.status();
  out.tensor.shape = std::move(shape).value();
  const std::optional<uint64_t> count = tensor::CheckedElementCount(out.tensor.shape);
  if (!count) {
    return InvalidArgument(where + "shape " + tensor::ShapeText(out.tensor.shape) +
                           " holds too many elements");
  }
  out.count = *count;
  if (const auto params = input.find("parameters"); params != input.end()) {
    if (!params->is_object()) return InvalidArgument(where + "parameters must be an object");
    if (const auto size = params->find("binary_data_size"); size != params->end()) {
      if (!size->is_number_unsigned()) {
        return InvalidArgument(where + "parameters.binary_data_size must be a byte count, got " +
                               Excerpt(*size));
      }
      out.binary_size = size->get<uint64_t>();
    }
  }
  if (const auto data = input.find("data"); data != input.end()) out.data = &*data;
  if (out.binary_size && out.data != nullptr) {
    return InvalidArgument(where + "has both data and parameters.binary_data_size; send one");
  }
  if (!out.binary_size && out.data == nullptr) {
    return InvalidArgument(where + "has no data (nor parameters.binary_data_size)");
  }
  return out;
}

// Reads "inputs"; consumes `binary` (what follows the JSON) in input order.
Status ReadInputs(const json& doc, std::string_view binary, bool has_binary, size_t json_size,
                  InferRequest& out) {
  const auto inputs = doc.find("inputs");
  if (inputs == doc.end() || !inputs->is_array() || inputs->empty()) {
    return InvalidArgument(
        "the request needs \"inputs\": a non-empty list of {name, shape, datatype, data}");
  }
  size_t used = 0;
  for (size_t i = 0; i < inputs->size(); ++i) {
    auto header = ReadInputHeader((*inputs)[i], i);
    if (!header.ok()) return header.status();
    Tensor& t = header->tensor;
    for (const Tensor& seen : out.inputs) {
      if (seen.name == t.name)
        return InvalidArgument("input " + Quoted(t.name) + " is given twice");
    }
    if (header->binary_size) {
      if (!has_binary) {
        return InvalidArgument("input " + Quoted(t.name) +
                               " has parameters.binary_data_size, which needs the "
                               "Inference-Header-Content-Length header");
      }
      if (*header->binary_size > binary.size() - used) {
        return InvalidArgument("input " + Quoted(t.name) + ": binary_data_size is " +
                               std::to_string(*header->binary_size) + ", but only " +
                               std::to_string(binary.size() - used) +
                               " bytes of binary data are left after the JSON (a truncated body?)");
      }
      Status s = FromBinary(binary.substr(used, *header->binary_size), header->count, t);
      if (!s.ok()) return s;
      used += *header->binary_size;
    } else {
      // A JSON element takes at least one byte of the request: more cannot be there.
      if (header->count > json_size) {
        return InvalidArgument("input " + Quoted(t.name) + ": shape " + tensor::ShapeText(t.shape) +
                               " holds " + std::to_string(header->count) +
                               " elements, more than the request's JSON could carry");
      }
      if (t.dtype != DType::kBytes) t.data.resize(header->count * tensor::DTypeSize(t.dtype));
      if (Status s = DataWriter(t, header->count).Write(*header->data); !s.ok()) return s;
    }
    out.inputs.push_back(std::move(t));
  }
  if (used != binary.size()) {
    return InvalidArgument("the body has " + std::to_string(binary.size()) +
                           " bytes of binary data after the JSON, but the inputs' "
                           "binary_data_size add up to " +
                           std::to_string(used));
  }
  return OkStatus();
}

Status ReadOutputs(const json& doc, InferRequest& out) {
  const auto outputs = doc.find("outputs");
  if (outputs == doc.end()) return OkStatus();
  if (!outputs->is_array()) return InvalidArgument("outputs must be a list of {name, parameters}");
  for (size_t i = 0; i < outputs->size(); ++i) {
    const json& o = (*outputs)[i];
    const std::string at = "outputs[" + std::to_string(i) + "]";
    const auto name = o.is_object() ? o.find("name") : o.end();
    if (!o.is_object() || name == o.end() || !name->is_string()) {
      return InvalidArgument(at + " must be an object with a \"name\" string");
    }
    RequestedOutput requested{name->get<std::string>(), std::nullopt};
    for (const auto& seen : out.outputs) {
      if (seen.name == requested.name) {
        return InvalidArgument("output " + Quoted(requested.name) + " is asked for twice");
      }
    }
    if (const auto params = o.find("parameters"); params != o.end()) {
      if (!params->is_object()) return InvalidArgument(at + ".parameters must be an object");
      if (const auto binary = params->find("binary_data"); binary != params->end()) {
        if (!binary->is_boolean()) {
          return InvalidArgument(at + ".parameters.binary_data must be true or false");
        }
        requested.binary = binary->get<bool>();
      }
    }
    out.outputs.push_back(std::move(requested));
  }
  return OkStatus();
}

Status ReadIdAndParameters(const json& doc, InferRequest& out) {
  if (const auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_string()) return InvalidArgument("id must be a string, got " + Excerpt(*id));
    out.id = id->get<std::string>();
  }
  if (const auto params = doc.find("parameters"); params != doc.end()) {
    if (!params->is_object()) return InvalidArgument("parameters must be an object");
    if (const auto binary = params->find("binary_data_output"); binary != params->end()) {
      if (!binary->is_boolean()) {
        return InvalidArgument("parameters.binary_data_output must be true or false");
      }
      out.binary_outputs = binary->get<bool>();
    }
    out.parameters = *params;
  }
  return OkStatus();
}

}  // namespace

bool InferRequest::BinaryOutput(std::string_view name) const {
  for (const auto& o : outputs) {
    if (o.name == name && o.binary) return *o.binary;
  }
  return binary_outputs;
}

StatusOr<InferRequest> DecodeInferRequest(std::string_view body,
                                          std::optional<uint64_t> header_length) {
  std::string_view header = body;
  std::string_view binary;
  if (header_length) {
    if (*header_length > body.size()) {
      return InvalidArgument("Inference-Header-Content-Length is " +
                             std::to_string(*header_length) + ", but the body has only " +
                             std::to_string(body.size()) + " bytes");
    }
    header = body.substr(0, *header_length);
    binary = body.substr(*header_length);
  }
  if (!JsonDepthAtMost(header, kMaxJsonDepth)) {
    return InvalidArgument("the request's JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
  }
  const json doc = json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument(std::string(doc.is_discarded() ? "the request is not valid JSON"
                                                          : "the request is not a JSON object") +
                           (header_length ? " (its first " + std::to_string(*header_length) +
                                                " bytes, as Inference-Header-Content-Length says)"
                                          : "") +
                           "; send {\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}]}");
  }
  InferRequest out;
  if (Status s = ReadIdAndParameters(doc, out); !s.ok()) return s;
  if (Status s = ReadInputs(doc, binary, header_length.has_value(), header.size(), out); !s.ok()) {
    return s;
  }
  if (Status s = ReadOutputs(doc, out); !s.ok()) return s;
  return out;
}

StatusOr<uint64_t> ParseHeaderLength(std::string_view value) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return InvalidArgument("Inference-Header-Content-Length must be a byte count, got \"" +
                           std::string(value.substr(0, 40)) + "\"");
  }
  return n;
}

bool JsonDepthAtMost(std::string_view json, int max_depth) {
  return JsonNestingDepth(json, max_depth) <= max_depth;
}

}  // namespace axon::protocol::v2
