// IEEE 754 half precision (binary16) to and from single precision. Pure functions; thread-safe.
#pragma once

#include <cstdint>

namespace axon::tensor {

// Exact: every half value is a float.
float HalfToFloat(uint16_t half);
// Rounds to the nearest half, ties to even; overflows to infinity; NaN stays NaN.
uint16_t FloatToHalf(float value);

}  // namespace axon::tensor
