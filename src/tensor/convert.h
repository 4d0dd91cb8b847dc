// Element type conversions between tensors. Pure functions; thread-safe.
#pragma once

#include "tensor/tensor.h"

namespace axon::tensor {

// True when every value of `from` is exactly a value of `to`: the same dtype; an integer type
// into a wider one or into a float type whose mantissa holds its whole range (int16 -> int32,
// int16 -> float32, int32 -> float64, uint8 -> float16); a float type into a wider one. Never
// from or to bool or bytes (other than to themselves), never from float to integer.
bool ConvertsLosslessly(DType from, DType to);

// `t` with its elements converted to `to` (both fixed-size dtypes); exact whenever
// ConvertsLosslessly(t.dtype, to), which callers check first.
Tensor ConvertTo(const Tensor& t, DType to);

}  // namespace axon::tensor
