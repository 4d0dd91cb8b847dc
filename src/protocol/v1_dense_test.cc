// The V1 shortcut for the usual body must give exactly the tensor the general decoder gives
// (same shape, same bytes: the same rounding of every number), and leave everything else to
// the general decoder, which then gives its own answer or error.
#include "protocol/v1_dense.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/v1_json.h"

namespace axon::protocol {
namespace {

using tensor::DType;
using tensor::TensorInfo;

TensorInfo Input(DType dtype, tensor::Shape shape) { return {"x", dtype, std::move(shape), true}; }

// Both decoders on `body`: the shortcut must take it and agree with the general one.
void ExpectSame(const std::string& body, const TensorInfo& input) {
  SCOPED_TRACE(body);
  auto dense = DecodeV1Dense(body, input);
  ASSERT_TRUE(dense.has_value()) << "the shortcut did not take it";
  auto general = DecodeV1InstancesGeneral(body, {{input}, {}});
  ASSERT_TRUE(general.ok()) << general.status().message();
  ASSERT_EQ(general->size(), 1u);
  EXPECT_EQ(dense->name, (*general)[0].name);
  EXPECT_EQ(dense->dtype, (*general)[0].dtype);
  EXPECT_EQ(dense->shape, (*general)[0].shape);
  EXPECT_EQ(dense->data, (*general)[0].data);  // bytes: -0.0 and 0.0 differ here
}

TEST(V1Dense, AgreesWithTheGeneralDecoderOnNumbers) {
  const std::vector<std::string> numbers = {"0",
                                            "-0",
                                            "-0.0",
                                            "1",
                                            "-1",
                                            "0.1",
                                            "1.5e3",
                                            "1E-3",
                                            "2e+2",
                                            "3.4028235e38",
                                            "1e39",
                                            "1e-40",
                                            "1e-310",
                                            "4.9e-324",
                                            "0.30000000000000004",
                                            "123456789012345678901234567890",
                                            "9007199254740993",
                                            "-9223372036854775808",
                                            "18446744073709551615",
                                            "1.00000005960464477539062500001"};
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const auto& n : numbers) {
      ExpectSame(R"({"instances": [[)" + n + ", " + n + "]]}", Input(dtype, {-1, 2}));
    }
  }
}

TEST(V1Dense, AgreesOnShapesAndWhitespace) {
  ExpectSame(R"({"instances":[[1,2,3],[4,5,6]]})", Input(DType::kFloat32, {-1, 3}));
  ExpectSame(" \n{ \"instances\" :\t[ [ [1, 2], [3, 4] ] ,[[5,6],[7,8]] ] }\r\n ",
             Input(DType::kFloat32, {-1, 2, 2}));
  ExpectSame(R"({"instances": [7, 8, 9]})", Input(DType::kFloat64, {-1}));  // scalar instances
  ExpectSame(R"({"instances": [[1]]})", Input(DType::kFloat32, {1, 1}));    // fixed batch dim
}

// Anything else is left to the general decoder (nullopt), which answers as it always did.
TEST(V1Dense, LeavesEverythingElseToTheGeneralDecoder) {
  const TensorInfo f32 = Input(DType::kFloat32, {-1, 2});
  for (const char* body : {
           R"({"instances": []})",                // no instance: an error there
           R"({"instances": [[1, 2, 3]]})",       // wrong shape: its error message
           R"({"instances": [[1]]})",             //
           R"({"instances": [[1, "2"]]})",        // not a number
           R"({"instances": [[1, true]]})",       //
           R"({"instances": [[1, null]]})",       //
           R"({"instances": [[01, 2]]})",         // not JSON numbers
           R"({"instances": [[.5, 2]]})",         //
           R"({"instances": [[1., 2]]})",         //
           R"({"instances": [[+1, 2]]})",         //
           R"({"instances": [[1e, 2]]})",         //
           R"({"instances": [[NaN, 2]]})",        //
           R"({"instances": [[1e400, 2]]})",      // out of range for a double
           R"({"instances": [[1, 2]], "x": 1})",  // another key
           R"({"instances": [[1, 2]], "instances": [[3, 4]]})",
           R"({"\u0069nstances": [[1, 2]]})",  // an escaped key
           R"({"instances": [[1, 2]]} x)",     // trailing bytes
           R"({"instances": [[1, 2],]})",      // trailing comma
           R"({"instances": [[1, 2]])",        // truncated
           R"([[1, 2]])",                      //
           "",                                 //
       }) {
    EXPECT_FALSE(DecodeV1Dense(body, f32).has_value()) << body;
  }
  const char* usual = R"({"instances": [[1, 2]]})";
  EXPECT_TRUE(DecodeV1Dense(usual, f32).has_value());
  EXPECT_FALSE(DecodeV1Dense(usual, Input(DType::kInt64, {-1, 2})).has_value());
  EXPECT_FALSE(DecodeV1Dense(usual, Input(DType::kFloat32, {-1, -1})).has_value());
  EXPECT_FALSE(DecodeV1Dense(usual, {"x", DType::kFloat32, {}, /*shape_known=*/false}));
}

// Through DecodeV1Instances: a body the shortcut leaves still gets the general decoder's error.
TEST(V1Dense, ErrorsStillComeFromTheGeneralDecoder) {
  auto t =
      DecodeV1Instances(R"({"instances": [[1, "a"]]})", {{Input(DType::kFloat32, {-1, 2})}, {}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("instances[0][1] must be float32"), std::string::npos)
      << t.status().message();
}

}  // namespace
}  // namespace axon::protocol
