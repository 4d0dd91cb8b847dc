#include "tensor/float16.h"

#include <bit>

namespace axon::tensor {

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000U) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fU;
  uint32_t mantissa = half & 0x3ffU;
  uint32_t bits = 0;
  if (exponent == 0x1f) {  // infinity or NaN
    bits = sign | 0x7f800000U | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: normalize it
    uint32_t e = 113;
    while ((mantissa & 0x400U) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mantissa & 0x3ffU) << 13);
  } else {
    bits = sign;  // zero
  }
  return std::bit_cast<float>(bits);
}

uint16_t FloatToHalf(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000U);
  const uint32_t exponent = (bits >> 23) & 0xffU;
  const uint32_t mantissa = bits & 0x7fffffU;
  if (exponent == 0xff) {  // infinity or NaN (a NaN keeps a mantissa bit)
    return static_cast<uint16_t>(sign | 0x7c00U | (mantissa != 0 ? 0x200U | (mantissa >> 13) : 0));
  }
  const int e = static_cast<int>(exponent) - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00U);  // too large: infinity
  if (e <= 0) {                                                 // subnormal half, or zero
    if (e < -10) return sign;
    const uint32_t m = mantissa | 0x800000U;  // the implicit leading 1
    const int shift = 14 - e;
    uint32_t half = m >> shift;
    const uint32_t rest = m & ((1U << shift) - 1);
    const uint32_t halfway = 1U << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1U) != 0)) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fffU;
  if (rest > 0x1000U || (rest == 0x1000U && (half & 1U) != 0)) ++half;  // may carry into inf
  return static_cast<uint16_t>(sign | half);
}

}  // namespace axon::tensor
