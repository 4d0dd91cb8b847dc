#include "protocol/json_elements.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "tensor/float16.h"

namespace axon::protocol {
namespace {

using tensor::DType;

template <typename T>
void AppendNumber(std::string& out, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      out += "null";
      return;
    }
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

template <typename T>
T At(const tensor::Tensor& t, size_t index) {
  T v;
  std::memcpy(&v, t.data.data() + index * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

void AppendJsonElement(std::string& out, const tensor::Tensor& t, size_t index) {
  switch (t.dtype) {
    case DType::kFloat32:
      return AppendNumber(out, At<float>(t, index));
    case DType::kFloat64:
      return AppendNumber(out, At<double>(t, index));
    case DType::kFloat16:
      return AppendNumber(out, tensor::HalfToFloat(At<uint16_t>(t, index)));
    case DType::kInt8:
      return AppendNumber(out, static_cast<int>(At<int8_t>(t, index)));
    case DType::kInt16:
      return AppendNumber(out, At<int16_t>(t, index));
    case DType::kInt32:
      return AppendNumber(out, At<int32_t>(t, index));
    case DType::kInt64:
      return AppendNumber(out, At<int64_t>(t, index));
    case DType::kUInt8:
      return AppendNumber(out, static_cast<unsigned>(At<uint8_t>(t, index)));
    case DType::kUInt16:
      return AppendNumber(out, At<uint16_t>(t, index));
    case DType::kUInt32:
      return AppendNumber(out, At<uint32_t>(t, index));
    case DType::kUInt64:
      return AppendNumber(out, At<uint64_t>(t, index));
    case DType::kBool:
      out += At<uint8_t>(t, index) != 0 ? "true" : "false";
      return;
    case DType::kBytes:
      out += "null";  // callers write byte strings themselves
      return;
  }
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07U;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3fU);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace axon::protocol
