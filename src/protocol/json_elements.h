// Tensor elements written as JSON values, shared by the V1 and the Open Inference Protocol
// encoders. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tensor/tensor.h"

namespace axon::protocol {

// Appends element `index` of `t` (a fixed-size dtype): a number, or true/false for bool. NaN
// and infinities are written as null (JSON has no way to say them).
void AppendJsonElement(std::string& out, const tensor::Tensor& t, size_t index);

// Appends `text`, which must be valid UTF-8 (IsUtf8), as a quoted and escaped JSON string.
void AppendJsonString(std::string& out, std::string_view text);
// Whether `text` is well-formed UTF-8 (what a JSON string may hold).
bool IsUtf8(std::string_view text);

}  // namespace axon::protocol
