#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tensor/convert.h"
#include "tensor/float16.h"
#include "tensor/tensor.h"

namespace axon::tensor {
namespace {

TEST(DType, NamesRoundTripAndOnlySixAreNative) {
  for (int i = 0; i <= static_cast<int>(DType::kBytes); ++i) {
    const auto dtype = static_cast<DType>(i);
    EXPECT_EQ(DTypeFromName(DTypeName(dtype)), dtype) << DTypeName(dtype);
  }
  EXPECT_EQ(NativeDTypeNames(), "float32, float64, int32, int64, uint8, bool");
  EXPECT_FALSE(IsNativeDType(DType::kInt16));
  EXPECT_EQ(DTypeSize(DType::kFloat16), 2u);
  EXPECT_EQ(DTypeSize(DType::kBytes), 0u);
  EXPECT_FALSE(DTypeFromName("float"));
}

TEST(CheckedElementCount, RejectsNegativeDimsAndOverflow) {
  EXPECT_EQ(CheckedElementCount(Shape{2, 3, 4}), 24u);
  EXPECT_EQ(CheckedElementCount(Shape{}), 1u);
  EXPECT_EQ(CheckedElementCount(Shape{0, int64_t{1} << 62}), 0u);
  EXPECT_FALSE(CheckedElementCount(Shape{2, -1}));
  EXPECT_FALSE(CheckedElementCount(Shape{int64_t{1} << 31, int64_t{1} << 31, 2}));
  EXPECT_FALSE(CheckedElementCount(Shape{int64_t{1} << 40, int64_t{1} << 40}));
}

TEST(Float16, ExactValuesRoundTrip) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 0.333251953125f, 65504.0f, 6.103515625e-05f,
                  5.960464477539063e-08f /* smallest subnormal */}) {
    EXPECT_EQ(HalfToFloat(FloatToHalf(v)), v) << v;
  }
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(FloatToHalf(1e-9f), 0);  // below half the smallest subnormal
}

TEST(Float16, RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even one, 1.
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9: up.
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // rounds past the largest half: infinity
}

TEST(Convert, LosslessRules) {
  EXPECT_TRUE(ConvertsLosslessly(DType::kInt16, DType::kInt32));
  EXPECT_TRUE(ConvertsLosslessly(DType::kInt16, DType::kFloat32));
  EXPECT_TRUE(ConvertsLosslessly(DType::kUInt8, DType::kFloat16));
  EXPECT_TRUE(ConvertsLosslessly(DType::kUInt8, DType::kInt16));
  EXPECT_TRUE(ConvertsLosslessly(DType::kInt32, DType::kFloat64));
  EXPECT_TRUE(ConvertsLosslessly(DType::kUInt32, DType::kInt64));
  EXPECT_TRUE(ConvertsLosslessly(DType::kFloat16, DType::kFloat32));
  EXPECT_TRUE(ConvertsLosslessly(DType::kFloat32, DType::kFloat64));
  EXPECT_FALSE(ConvertsLosslessly(DType::kInt32, DType::kFloat32));
  EXPECT_FALSE(ConvertsLosslessly(DType::kInt64, DType::kInt32));
  EXPECT_FALSE(ConvertsLosslessly(DType::kInt64, DType::kFloat64));
  EXPECT_FALSE(ConvertsLosslessly(DType::kInt8, DType::kUInt8));
  EXPECT_FALSE(ConvertsLosslessly(DType::kUInt8, DType::kInt8));
  EXPECT_FALSE(ConvertsLosslessly(DType::kUInt64, DType::kInt64));
  EXPECT_FALSE(ConvertsLosslessly(DType::kFloat64, DType::kFloat32));
  EXPECT_FALSE(ConvertsLosslessly(DType::kFloat32, DType::kInt64));
  EXPECT_FALSE(ConvertsLosslessly(DType::kBool, DType::kUInt8));
  EXPECT_FALSE(ConvertsLosslessly(DType::kUInt8, DType::kBool));
  EXPECT_FALSE(ConvertsLosslessly(DType::kBytes, DType::kFloat32));
}

TEST(Convert, ConvertsValues) {
  Tensor t{"x", DType::kInt16, {3}, {}};
  const int16_t values[] = {-32768, 7, 32767};
  t.data.resize(sizeof(values));
  std::memcpy(t.data.data(), values, sizeof(values));
  Tensor f = ConvertTo(t, DType::kFloat32);
  EXPECT_EQ(f.shape, t.shape);
  auto v = f.values<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{-32768, 7, 32767}));
  Tensor h{"h", DType::kFloat16, {2}, {}};
  const uint16_t halves[] = {0x3c00, 0xc100};  // 1, -2.5
  h.data.resize(sizeof(halves));
  std::memcpy(h.data.data(), halves, sizeof(halves));
  Tensor d = ConvertTo(h, DType::kFloat64);
  EXPECT_EQ(d.values<double>()[0], 1.0);
  EXPECT_EQ(d.values<double>()[1], -2.5);
}

TEST(BytesElements, AppendAndSplit) {
  std::vector<std::byte> data;
  AppendBytesElement(data, "ab");
  AppendBytesElement(data, "");
  AppendBytesElement(data, std::string("\0z", 2));
  EXPECT_EQ(data.size(), 4u + 2 + 4 + 4 + 2);
  auto parts = SplitBytesElements(data, 3);
  ASSERT_TRUE(parts);
  EXPECT_EQ((*parts)[0], "ab");
  EXPECT_EQ((*parts)[1], "");
  EXPECT_EQ((*parts)[2], std::string_view("\0z", 2));
  EXPECT_FALSE(SplitBytesElements(data, 2));  // bytes left over
  EXPECT_FALSE(SplitBytesElements(data, 4));  // one too many
  std::vector<std::byte> truncated(data.begin(), data.end() - 1);
  EXPECT_FALSE(SplitBytesElements(truncated, 3));
  // A huge count is refused before anything is reserved for it.
  EXPECT_FALSE(SplitBytesElements(data, uint64_t{1} << 60));
}

}  // namespace
}  // namespace axon::tensor
