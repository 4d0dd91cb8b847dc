#include "tensor/convert.h"

#include <cstring>
#include <type_traits>

#include "tensor/float16.h"

namespace axon::tensor {
namespace {

// The half-precision storage type, distinct from uint16_t for dispatch.
struct Half {
  uint16_t bits;
};

// What a dtype's values are, for the lossless rule.
struct Range {
  enum Kind { kBool, kSigned, kUnsigned, kFloat, kBytes } kind;
  int bits;  // value bits: magnitude bits of integers, mantissa digits of floats
  int exponent_bits;
};

Range RangeOf(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return {Range::kBool, 1, 0};
    case DType::kInt8:
      return {Range::kSigned, 7, 0};
    case DType::kInt16:
      return {Range::kSigned, 15, 0};
    case DType::kInt32:
      return {Range::kSigned, 31, 0};
    case DType::kInt64:
      return {Range::kSigned, 63, 0};
    case DType::kUInt8:
      return {Range::kUnsigned, 8, 0};
    case DType::kUInt16:
      return {Range::kUnsigned, 16, 0};
    case DType::kUInt32:
      return {Range::kUnsigned, 32, 0};
    case DType::kUInt64:
      return {Range::kUnsigned, 64, 0};
    case DType::kFloat16:
      return {Range::kFloat, 11, 5};
    case DType::kFloat32:
      return {Range::kFloat, 24, 8};
    case DType::kFloat64:
      return {Range::kFloat, 53, 11};
    case DType::kBytes:
      return {Range::kBytes, 0, 0};
  }
  return {Range::kBytes, 0, 0};
}

// Calls fn(T{}) with T the element type that stores `dtype` (Half for kFloat16).
template <typename Fn>
void Visit(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32:
      return fn(float{});
    case DType::kFloat64:
      return fn(double{});
    case DType::kInt32:
      return fn(int32_t{});
    case DType::kInt64:
      return fn(int64_t{});
    case DType::kUInt8:
    case DType::kBool:
      return fn(uint8_t{});
    case DType::kInt8:
      return fn(int8_t{});
    case DType::kInt16:
      return fn(int16_t{});
    case DType::kUInt16:
      return fn(uint16_t{});
    case DType::kUInt32:
      return fn(uint32_t{});
    case DType::kUInt64:
      return fn(uint64_t{});
    case DType::kFloat16:
      return fn(Half{});
    case DType::kBytes:
      return;  // not a fixed-size type; callers never convert it
  }
}

template <typename To, typename From>
To Cast(From v) {
  if constexpr (std::is_same_v<From, Half>) {
    return Cast<To>(HalfToFloat(v.bits));
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{FloatToHalf(static_cast<float>(v))};
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace

bool ConvertsLosslessly(DType from, DType to) {
  if (from == to) return true;
  const Range f = RangeOf(from);
  const Range t = RangeOf(to);
  // An integer of `bits` magnitude bits fits a float of at least that many mantissa digits.
  switch (f.kind) {
    case Range::kSigned:
      return (t.kind == Range::kSigned || t.kind == Range::kFloat) && t.bits >= f.bits;
    case Range::kUnsigned:
      return t.kind != Range::kBool && t.kind != Range::kBytes && t.bits >= f.bits;
    case Range::kFloat:
      return t.kind == Range::kFloat && t.bits >= f.bits && t.exponent_bits >= f.exponent_bits;
    case Range::kBool:
    case Range::kBytes:
      return false;
  }
  return false;
}

Tensor ConvertTo(const Tensor& t, DType to) {
  Tensor out{t.name, to, t.shape, {}};
  const size_t n = DTypeSize(t.dtype) == 0 ? 0 : t.data.size() / DTypeSize(t.dtype);
  out.data.resize(n * DTypeSize(to));
  Visit(t.dtype, [&](auto from_tag) {
    using From = decltype(from_tag);
    Visit(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      for (size_t i = 0; i < n; ++i) {
        From v;
        std::memcpy(&v, t.data.data() + i * sizeof(From), sizeof(From));
        const To converted = Cast<To>(v);
        std::memcpy(out.data.data() + i * sizeof(To), &converted, sizeof(To));
      }
    });
  });
  return out;
}

}  // namespace axon::tensor
