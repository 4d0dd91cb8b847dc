#include "protocol/v2_grpc_codec.h"

#include <cstring>
#include <limits>
#include <utility>

#include "protocol/v2_request.h"
#include "protocol/v2_types.h"
#include "tensor/tensor.h"

namespace axon::protocol::v2 {
namespace {

using json = nlohmann::json;
using tensor::DType;
using Parameters = google::protobuf::Map<std::string, inference::InferParameter>;

json ParametersToJson(const Parameters& parameters) {
  json out = json::object();
  for (const auto& [name, p] : parameters) {
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam:
        out[name] = p.bool_param();
        break;
      case inference::InferParameter::kInt64Param:
        out[name] = p.int64_param();
        break;
      case inference::InferParameter::kStringParam:
        out[name] = p.string_param();
        break;
      case inference::InferParameter::kDoubleParam:
        out[name] = p.double_param();
        break;
      case inference::InferParameter::kUint64Param:
        out[name] = p.uint64_param();
        break;
      case inference::InferParameter::PARAMETER_CHOICE_NOT_SET:
        break;
    }
  }
  return out;
}

template <typename T>
void AppendRaw(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Appends `values` as T, each checked to fit T.
template <typename T, typename Repeated>
Status AppendChecked(std::string& out, const Repeated& values, const std::string& input,
                     std::string_view datatype) {
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    if (!std::in_range<T>(v)) {
      return InvalidArgument("input \"" + input + "\": contents element " + std::to_string(i) +
                             " (" + std::to_string(v) + ") is out of the range of " +
                             std::string(datatype));
    }
    AppendRaw(out, static_cast<T>(v));
  }
  return OkStatus();
}

// The typed contents of one input as raw bytes, appended to `out`.
Status ContentsToRaw(const inference::ModelInferRequest::InferInputTensor& input, DType dtype,
                     uint64_t count, std::string& out) {
  const inference::InferTensorContents& c = input.contents();
  const std::string_view datatype = DataTypeName(dtype);
  auto check = [&](int size, const char* field) -> Status {
    if (static_cast<uint64_t>(size) == count) return OkStatus();
    return InvalidArgument("input \"" + input.name() + "\": shape holds " + std::to_string(count) +
                           " elements, but contents." + field + " has " + std::to_string(size) +
                           " (a " + std::string(datatype) + " tensor's elements go in " + field +
                           ")");
  };
  Status s;
  switch (dtype) {
    case DType::kBool:
      if (s = check(c.bool_contents_size(), "bool_contents"); !s.ok()) return s;
      for (bool b : c.bool_contents()) AppendRaw(out, static_cast<uint8_t>(b));
      return OkStatus();
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
      if (s = check(c.int_contents_size(), "int_contents"); !s.ok()) return s;
      if (dtype == DType::kInt8)
        return AppendChecked<int8_t>(out, c.int_contents(), input.name(), datatype);
      if (dtype == DType::kInt16)
        return AppendChecked<int16_t>(out, c.int_contents(), input.name(), datatype);
      return AppendChecked<int32_t>(out, c.int_contents(), input.name(), datatype);
    case DType::kInt64:
      if (s = check(c.int64_contents_size(), "int64_contents"); !s.ok()) return s;
      for (int64_t v : c.int64_contents()) AppendRaw(out, v);
      return OkStatus();
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
      if (s = check(c.uint_contents_size(), "uint_contents"); !s.ok()) return s;
      if (dtype == DType::kUInt8)
        return AppendChecked<uint8_t>(out, c.uint_contents(), input.name(), datatype);
      if (dtype == DType::kUInt16)
        return AppendChecked<uint16_t>(out, c.uint_contents(), input.name(), datatype);
      return AppendChecked<uint32_t>(out, c.uint_contents(), input.name(), datatype);
    case DType::kUInt64:
      if (s = check(c.uint64_contents_size(), "uint64_contents"); !s.ok()) return s;
      for (uint64_t v : c.uint64_contents()) AppendRaw(out, v);
      return OkStatus();
    case DType::kFloat32:
      if (s = check(c.fp32_contents_size(), "fp32_contents"); !s.ok()) return s;
      for (float v : c.fp32_contents()) AppendRaw(out, v);
      return OkStatus();
    case DType::kFloat64:
      if (s = check(c.fp64_contents_size(), "fp64_contents"); !s.ok()) return s;
      for (double v : c.fp64_contents()) AppendRaw(out, v);
      return OkStatus();
    case DType::kBytes:
      if (s = check(c.bytes_contents_size(), "bytes_contents"); !s.ok()) return s;
      for (const std::string& v : c.bytes_contents()) {
        if (v.size() > std::numeric_limits<uint32_t>::max()) {
          return InvalidArgument("input \"" + input.name() + "\": a BYTES element is over 4 GiB");
        }
        AppendRaw(out, static_cast<uint32_t>(v.size()));
        out += v;
      }
      return OkStatus();
    case DType::kFloat16:
      break;
  }
  return InvalidArgument("input \"" + input.name() +
                         "\" is FP16, which has no contents field: send it in raw_input_contents");
}

// One input's JSON and its bytes (appended to `tail`).
StatusOr<json> InputToHttp(const inference::ModelInferRequest& request, int index,
                           std::string& tail) {
  const auto& input = request.inputs(index);
  const bool raw = request.raw_input_contents_size() > 0;
  const size_t before = tail.size();
  if (raw) {
    if (input.has_contents()) {
      return InvalidArgument("input \"" + input.name() +
                             "\" has contents, but the request also has raw_input_contents; use "
                             "one or the other");
    }
    tail += request.raw_input_contents(index);
  } else {
    const std::optional<DType> dtype = DataTypeFromName(input.datatype());
    if (!dtype) {
      return InvalidArgument("input \"" + input.name() + "\": datatype must be one of " +
                             DataTypeNames() + ", got \"" + input.datatype() + "\"");
    }
    const std::optional<uint64_t> count = tensor::CheckedElementCount(
        std::span<const int64_t>(input.shape().data(), input.shape_size()));
    if (!count) {
      return InvalidArgument("input \"" + input.name() +
                             "\": shape must be a list of sizes >= 0 of a sane product");
    }
    if (Status s = ContentsToRaw(input, *dtype, *count, tail); !s.ok()) return s;
  }
  json parameters = ParametersToJson(input.parameters());
  parameters["binary_data_size"] = tail.size() - before;
  return json{{"name", input.name()},
              {"datatype", input.datatype()},
              {"shape", json(std::vector<int64_t>(input.shape().begin(), input.shape().end()))},
              {"parameters", std::move(parameters)}};
}

}  // namespace

StatusOr<BinaryBody> InferRequestToHttp(const inference::ModelInferRequest& request) {
  if (request.raw_input_contents_size() > 0 &&
      request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgument("raw_input_contents has " +
                           std::to_string(request.raw_input_contents_size()) + " entries for " +
                           std::to_string(request.inputs_size()) +
                           " inputs; give one per input, in the order of inputs");
  }
  json header = json::object();
  if (!request.id().empty()) header["id"] = request.id();
  json parameters = ParametersToJson(request.parameters());
  parameters["binary_data_output"] = true;
  header["parameters"] = std::move(parameters);
  std::string tail;
  json inputs = json::array();
  for (int i = 0; i < request.inputs_size(); ++i) {
    auto input = InputToHttp(request, i, tail);
    if (!input.ok()) return input.status();
    inputs.push_back(std::move(input).value());
  }
  header["inputs"] = std::move(inputs);
  if (request.outputs_size() > 0) {
    json outputs = json::array();
    for (const auto& output : request.outputs()) {
      json p = ParametersToJson(output.parameters());
      p["binary_data"] = true;
      outputs.push_back({{"name", output.name()}, {"parameters", std::move(p)}});
    }
    header["outputs"] = std::move(outputs);
  }
  BinaryBody out;
  out.body = header.dump(-1, ' ', false, json::error_handler_t::replace);
  out.header_length = out.body.size();
  out.body += tail;
  return out;
}

Status InferResponseFromHttp(std::string_view body, std::optional<uint64_t> header_length,
                             inference::ModelInferResponse* out) try {
  const size_t json_size = header_length.value_or(body.size());
  if (json_size > body.size() || !JsonDepthAtMost(body.substr(0, json_size), kMaxJsonDepth)) {
    return Internal("the replica's answer is malformed");
  }
  const json doc = json::parse(body.substr(0, json_size), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("outputs") || !doc["outputs"].is_array()) {
    return Internal("the replica's answer is not an inference response");
  }
  out->set_model_name(doc.value("model_name", std::string()));
  out->set_model_version(doc.value("model_version", std::string()));
  out->set_id(doc.value("id", std::string()));
  std::string_view tail = body.substr(json_size);
  for (const json& o : doc["outputs"]) {
    auto* t = out->add_outputs();
    t->set_name(o.value("name", std::string()));
    t->set_datatype(o.value("datatype", std::string()));
    for (const json& d : o.value("shape", json::array())) t->add_shape(d.get<int64_t>());
    const json size = o.value("parameters", json::object()).value("binary_data_size", json());
    if (!size.is_number_unsigned() || size.get<uint64_t>() > tail.size()) {
      return Internal("output \"" + t->name() + "\" of the replica's answer is not binary data");
    }
    out->add_raw_output_contents(std::string(tail.substr(0, size.get<uint64_t>())));
    tail.remove_prefix(size.get<uint64_t>());
  }
  return OkStatus();
} catch (const nlohmann::json::exception& e) {
  return Internal(std::string("the replica's answer is malformed: ") + e.what());
}

std::string ModelTarget(std::string_view name, std::string_view version, std::string_view suffix) {
  std::string out = "/v2/models/" + std::string(name);
  if (!version.empty()) out += "/versions/" + std::string(version);
  return out + std::string(suffix);
}

Status ServerMetadataFromJson(const json& j, inference::ServerMetadataResponse* out) try {
  out->set_name(j.value("name", std::string()));
  out->set_version(j.value("version", std::string()));
  for (const json& e : j.value("extensions", json::array())) {
    if (e.is_string()) out->add_extensions(e.get<std::string>());
  }
  return OkStatus();
} catch (const nlohmann::json::exception& e) {
  return Internal(std::string("malformed server metadata: ") + e.what());
}

Status ModelMetadataFromJson(const json& j, inference::ModelMetadataResponse* out) try {
  out->set_name(j.value("name", std::string()));
  out->set_platform(j.value("platform", std::string()));
  for (const json& v : j.value("versions", json::array())) {
    if (v.is_string()) out->add_versions(v.get<std::string>());
  }
  auto tensors = [&](const char* key, auto add) {
    for (const json& t : j.value(key, json::array())) {
      auto* m = add();
      m->set_name(t.value("name", std::string()));
      m->set_datatype(t.value("datatype", std::string()));
      for (const json& d : t.value("shape", json::array())) {
        if (d.is_number_integer()) m->add_shape(d.get<int64_t>());
      }
    }
  };
  tensors("inputs", [&] { return out->add_inputs(); });
  tensors("outputs", [&] { return out->add_outputs(); });
  return OkStatus();
} catch (const nlohmann::json::exception& e) {
  return Internal(std::string("malformed model metadata: ") + e.what());
}

grpc::Status GrpcStatusFor(int http_status, std::string_view body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message = "HTTP " + std::to_string(http_status);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    message = doc["error"].get<std::string>();
  }
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (http_status) {
    case 400:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case 404:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case 405:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case 413:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case 500:
      code = grpc::StatusCode::INTERNAL;
      break;
    case 502:
    case 503:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case 504:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    default:
      break;
  }
  return {code, message};
}

}  // namespace axon::protocol::v2
