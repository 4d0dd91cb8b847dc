#include "protocol/v2_metadata.h"

#include <string>

#include "protocol/v2_types.h"
#include "tensor/tensor.h"

namespace axon::protocol::v2 {
namespace {

using json = nlohmann::json;

// The string at `key` of `j`, or "" (the replica's answer is ours, but a type surprise must
// not throw on the request path).
std::string StringAt(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json TensorList(const json& replica_metadata, const char* key) {
  json out = json::array();
  const auto list = replica_metadata.find(key);
  if (list == replica_metadata.end() || !list->is_array()) return out;
  for (const json& t : *list) {
    if (!t.is_object()) continue;
    const std::optional<tensor::DType> dtype = tensor::DTypeFromName(StringAt(t, "dtype"));
    json shape = json::array();
    if (const auto s = t.find("shape"); s != t.end() && s->is_array()) {
      for (const json& d : *s) {
        if (d.is_number_integer()) shape.push_back(d.get<int64_t>());
      }
    }
    out.push_back({{"name", StringAt(t, "name")},
                   {"datatype", dtype ? std::string(DataTypeName(*dtype)) : "BYTES"},
                   {"shape", std::move(shape)}});
  }
  return out;
}

}  // namespace

std::string_view PlatformFor(std::string_view predictor_type) {
  if (predictor_type == "torchscript") return "pytorch_torchscript";
  if (predictor_type == "onnx") return "onnx_onnxv1";
  if (predictor_type == "xgboost") return "xgboost";
  return "python";
}

json ModelMetadata(std::string_view name, const std::vector<int64_t>& versions,
                   const json& replica_metadata) {
  json version_names = json::array();
  for (int64_t v : versions) version_names.push_back(std::to_string(v));
  const bool described = replica_metadata.is_object();
  const std::string type = described ? StringAt(replica_metadata, "type") : "python";
  // A Python predictor's metadata lists the native models it calls, not its own tensors.
  const bool own_tensors = described && type != "python";
  return {{"name", name},
          {"versions", std::move(version_names)},
          {"platform", PlatformFor(type)},
          {"inputs", own_tensors ? TensorList(replica_metadata, "inputs") : json::array()},
          {"outputs", own_tensors ? TensorList(replica_metadata, "outputs") : json::array()}};
}

}  // namespace axon::protocol::v2
