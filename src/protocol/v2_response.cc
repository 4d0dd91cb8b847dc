#include "protocol/v2_response.h"

#include <algorithm>
#include <charconv>

#include "protocol/json_elements.h"
#include "protocol/v2_types.h"

namespace axon::protocol::v2 {
namespace {

using tensor::DType;
using tensor::Tensor;

std::string OutputNames(std::span<const Tensor> outputs) {
  std::string out;
  for (const auto& t : outputs) out += (out.empty() ? "" : ", ") + t.name;
  return out;
}

void AppendInteger(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

// `t`'s elements as a flat JSON list.
Status AppendData(std::string& out, const Tensor& t, uint64_t count) {
  out += '[';
  if (t.dtype == DType::kBytes) {
    const auto elements = tensor::SplitBytesElements(t.data, count);
    if (!elements) return Internal("output \"" + t.name + "\" holds malformed BYTES data");
    for (size_t i = 0; i < elements->size(); ++i) {
      if (!IsUtf8((*elements)[i])) {
        return InvalidArgument(
            "output \"" + t.name +
            "\" holds bytes that are not UTF-8 text, which JSON cannot carry; ask for it as "
            "binary data: \"outputs\": [{\"name\": \"" +
            t.name + "\", \"parameters\": {\"binary_data\": true}}]");
      }
      if (i > 0) out += ',';
      AppendJsonString(out, (*elements)[i]);
    }
  } else {
    for (uint64_t i = 0; i < count; ++i) {
      if (i > 0) out += ',';
      AppendJsonElement(out, t, i);
    }
  }
  out += ']';
  return OkStatus();
}

// Appends one output's JSON object; its binary data, if asked for so, to `binary`.
Status AppendOutput(std::string& out, std::string& binary, const Tensor& t, bool as_binary) {
  const std::optional<uint64_t> count = tensor::CheckedElementCount(t.shape);
  const size_t size = tensor::DTypeSize(t.dtype);
  if (!count || (size > 0 && t.data.size() != *count * size)) {
    return Internal("output \"" + t.name + "\" of shape " + tensor::ShapeText(t.shape) + " holds " +
                    std::to_string(t.data.size()) + " bytes");
  }
  out += "{\"name\":";
  AppendJsonString(out, t.name);
  out += ",\"datatype\":\"";
  out += DataTypeName(t.dtype);
  out += "\",\"shape\":[";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i > 0) out += ',';
    AppendInteger(out, static_cast<uint64_t>(t.shape[i]));
  }
  out += ']';
  if (as_binary) {
    if (t.dtype == DType::kBytes && !tensor::SplitBytesElements(t.data, *count)) {
      return Internal("output \"" + t.name + "\" holds malformed BYTES data");
    }
    out += ",\"parameters\":{\"binary_data_size\":";
    AppendInteger(out, t.data.size());
    out += "}}";
    binary.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    return OkStatus();
  }
  out += ",\"data\":";
  if (Status s = AppendData(out, t, *count); !s.ok()) return s;
  out += '}';
  return OkStatus();
}

}  // namespace

StatusOr<EncodedResponse> EncodeInferResponse(const ResponseInfo& info, const InferRequest& request,
                                              std::span<const Tensor> outputs) {
  std::vector<const Tensor*> selected;
  if (request.outputs.empty()) {
    for (const Tensor& t : outputs) selected.push_back(&t);
  }
  for (const auto& wanted : request.outputs) {
    const Tensor* found = nullptr;
    for (const Tensor& t : outputs) {
      if (t.name == wanted.name) found = &t;
    }
    if (found == nullptr) {
      return InvalidArgument("there is no output \"" + wanted.name +
                             "\" to send; the outputs are: " + OutputNames(outputs));
    }
    selected.push_back(found);
  }
  EncodedResponse response;
  std::string& out = response.body;
  std::string binary;
  out += "{\"model_name\":";
  AppendJsonString(out, info.model_name);
  if (!info.model_version.empty()) {
    out += ",\"model_version\":";
    AppendJsonString(out, info.model_version);
  }
  if (!request.id.empty()) {
    out += ",\"id\":";
    AppendJsonString(out, request.id);
  }
  out += ",\"outputs\":[";
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i > 0) out += ',';
    const Tensor& t = *selected[i];
    if (Status s = AppendOutput(out, binary, t, request.BinaryOutput(t.name)); !s.ok()) return s;
  }
  out += "]}";
  if (!binary.empty() || std::any_of(selected.begin(), selected.end(), [&](const Tensor* t) {
        return request.BinaryOutput(t->name);
      })) {
    response.header_length = out.size();
    out += binary;
  }
  return response;
}

}  // namespace axon::protocol::v2
