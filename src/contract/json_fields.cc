#include "contract/json_fields.h"

namespace axon::contract {
namespace {

const nlohmann::json& EmptyArray() {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  return kEmpty;
}

}  // namespace

FieldReader::FieldReader(const nlohmann::json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) status_ = InvalidArgument(where_ + " must be a JSON object");
}

void FieldReader::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
}

const nlohmann::json* FieldReader::Find(const char* key, bool required) {
  if (!status_.ok()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) Fail(InvalidArgument(Where(key) + " is missing"));
    return nullptr;
  }
  return &*it;
}

std::string FieldReader::String(const char* key, std::string fallback, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return fallback;
  if (!v->is_string()) {
    Fail(InvalidArgument(Where(key) + " must be a string"));
    return fallback;
  }
  return v->get<std::string>();
}

int64_t FieldReader::Int(const char* key, int64_t fallback, bool required, int64_t min,
                         int64_t max) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX)) {
    Fail(InvalidArgument(Where(key) + " must be an integer"));
    return fallback;
  }
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    Fail(InvalidArgument(Where(key) + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", got " + std::to_string(n)));
    return fallback;
  }
  return n;
}

bool FieldReader::Bool(const char* key, bool fallback) {
  const nlohmann::json* v = Find(key, false);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    Fail(InvalidArgument(Where(key) + " must be true or false"));
    return fallback;
  }
  return v->get<bool>();
}

std::vector<std::string> FieldReader::Strings(const char* key) {
  std::vector<std::string> out;
  const nlohmann::json& array = Array(key);
  for (const auto& item : array) {
    if (!item.is_string()) {
      Fail(InvalidArgument(Where(key) + " must be a list of strings"));
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

const nlohmann::json& FieldReader::Array(const char* key) {
  const nlohmann::json* v = Find(key, false);
  if (v == nullptr) return EmptyArray();
  if (!v->is_array()) {
    Fail(InvalidArgument(Where(key) + " must be a list"));
    return EmptyArray();
  }
  return *v;
}

}  // namespace axon::contract
