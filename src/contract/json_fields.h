// Reading typed fields out of JSON that came from another process, with errors that name the
// field. Used by the contract FromJson() functions; never throws.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::contract {

// Reads fields of one JSON object. The first failure is kept (status()); later reads of a
// failed reader return their defaults, so a caller reads every field and checks once.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string where);

  // Optional fields keep `fallback` when absent; required ones fail when absent.
  std::string String(const char* key, std::string fallback = {}, bool required = false);
  int64_t Int(const char* key, int64_t fallback = 0, bool required = false,
              int64_t min = std::numeric_limits<int64_t>::min(),
              int64_t max = std::numeric_limits<int64_t>::max());
  bool Bool(const char* key, bool fallback = false);
  std::vector<std::string> Strings(const char* key);
  // The array at `key` (empty when absent); fails when present and not an array.
  const nlohmann::json& Array(const char* key);

  const Status& status() const { return status_; }
  std::string Where(const char* key) const { return where_ + "." + key; }
  // Records a failure found by the caller (keeps the first).
  void Fail(Status status);

 private:
  const nlohmann::json* Find(const char* key, bool required);

  const nlohmann::json& object_;
  std::string where_;
  Status status_;
};

}  // namespace axon::contract
