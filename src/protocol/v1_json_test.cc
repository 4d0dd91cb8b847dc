#include "protocol/v1_json.h"

#include <gtest/gtest.h>

namespace axon::protocol {
namespace {

using tensor::DType;
using tensor::Signature;
using tensor::Tensor;

Signature OneInput(DType dtype, tensor::Shape shape) {
  return {{{"x", dtype, std::move(shape)}}, {{"y", DType::kFloat32, {-1}}}};
}

TEST(V1Json, DecodesInstancesIntoOneBatchTensor) {
  auto t = DecodeV1Instances(R"({"instances": [[1, 2.5, 3], [4, 5, 6]]})",
                             OneInput(DType::kFloat32, {-1, 3}));
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].shape, (tensor::Shape{2, 3}));
  auto v = (*t)[0].values<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{1, 2.5, 3, 4, 5, 6}));
}

TEST(V1Json, WrongShapeNamesExpectedAndReceived) {
  auto t = DecodeV1Instances(R"({"instances": [[1, 2]]})", OneInput(DType::kFloat32, {-1, 3}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("expects shape [3]"), std::string::npos);
  EXPECT_NE(t.status().message().find("got [2]"), std::string::npos);
}

TEST(V1Json, RaggedInstancesAreRejected) {
  auto t = DecodeV1Instances(R"({"instances": [[[1, 2], [3]]]})",
                             OneInput(DType::kFloat32, {-1, 2, -1}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("instances[0][1]"), std::string::npos)
      << t.status().message();
}

TEST(V1Json, InstancesOfDifferentShapesAreRejected) {
  auto t = DecodeV1Instances(R"({"instances": [[1, 2], [1, 2, 3]]})",
                             OneInput(DType::kFloat32, {-1, -1}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("got [3] in instances[1]"), std::string::npos)
      << t.status().message();
}

TEST(V1Json, DtypesAreChecked) {
  auto t = DecodeV1Instances(R"({"instances": [[1, 2.5]]})", OneInput(DType::kInt64, {-1, 2}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("instances[0][1] must be int64, got 2.5"), std::string::npos)
      << t.status().message();
  auto s = DecodeV1Instances(R"({"instances": [["a"]]})", OneInput(DType::kFloat32, {-1, 1}));
  ASSERT_FALSE(s.ok());
  auto u = DecodeV1Instances(R"({"instances": [[256]]})", OneInput(DType::kUInt8, {-1, 1}));
  ASSERT_FALSE(u.ok());
}

TEST(V1Json, MultiInputInstancesAreObjects) {
  Signature sig{{{"a", DType::kFloat32, {-1, 2}}, {"b", DType::kInt64, {-1}}}, {}};
  auto t =
      DecodeV1Instances(R"({"instances": [{"a": [1, 2], "b": 7}, {"a": [3, 4], "b": 8}]})", sig);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ((*t)[1].shape, (tensor::Shape{2}));
  EXPECT_EQ((*t)[1].values<int64_t>()[1], 8);
  auto missing = DecodeV1Instances(R"({"instances": [{"a": [1, 2]}]})", sig);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("lacks input \"b\""), std::string::npos);
  auto unknown = DecodeV1Instances(R"({"instances": [{"a": [1, 2], "b": 1, "c": 1}]})", sig);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown input \"c\""), std::string::npos);
}

TEST(V1Json, MalformedBodies) {
  const Signature sig = OneInput(DType::kFloat32, {-1, 1});
  for (const char* body : {"", "{", "[]", R"({"instances": []})", R"({"inputs": [[1]]})"}) {
    auto t = DecodeV1Instances(body, sig);
    ASSERT_FALSE(t.ok()) << body;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(V1Json, EncodesRowsOfOneOrSeveralOutputs) {
  Tensor y = Tensor::Zeros("y", DType::kFloat32, {2, 2});
  auto v = y.values<float>();
  v[0] = 0.5f;
  v[1] = 1;
  v[2] = -2;
  v[3] = 0.1f;
  EXPECT_EQ(EncodeV1Predictions(std::span(&y, 1), 0, 2), R"({"predictions":[[0.5,1],[-2,0.1]]})");
  EXPECT_EQ(EncodeV1Predictions(std::span(&y, 1), 1, 1), R"({"predictions":[[-2,0.1]]})");
  std::vector<Tensor> two{Tensor::Zeros("p", DType::kFloat32, {1}),
                          Tensor::Zeros("k", DType::kInt64, {1, 2})};
  two[1].values<int64_t>()[1] = 3;
  EXPECT_EQ(EncodeV1Predictions(two, 0, 1), R"({"predictions":[{"p":0,"k":[0,3]}]})");
}

TEST(Tensor, ConcatAndSliceRows) {
  Tensor a = Tensor::Zeros("x", DType::kInt32, {1, 2});
  Tensor b = Tensor::Zeros("x", DType::kInt32, {2, 2});
  a.values<int32_t>()[0] = 1;
  b.values<int32_t>()[3] = 9;
  ASSERT_TRUE(tensor::RowsCompatible(a, b));
  const Tensor* parts[] = {&a, &b};
  Tensor c = tensor::ConcatRows(parts);
  EXPECT_EQ(c.shape, (tensor::Shape{3, 2}));
  EXPECT_EQ(c.values<int32_t>()[0], 1);
  EXPECT_EQ(c.values<int32_t>()[5], 9);
  Tensor s = tensor::SliceRows(c, 1, 2);
  EXPECT_EQ(s.shape, (tensor::Shape{2, 2}));
  EXPECT_EQ(s.values<int32_t>()[3], 9);
  EXPECT_FALSE(tensor::RowsCompatible(a, Tensor::Zeros("x", DType::kInt32, {1, 3})));
}

}  // namespace
}  // namespace axon::protocol

namespace axon::protocol {
namespace {

tensor::Signature UnknownShape() {
  tensor::TensorInfo x{"x", tensor::DType::kFloat32, {}};
  x.shape_known = false;
  return {{x}, {}};
}

// Regression: with no inputs declared, {"instances": [[a million zeros], [], [], ...]} (5 MB)
// made the replica allocate 10^12 floats and die of std::bad_alloc.
TEST(V1JsonBounds, InstancesOfDifferentShapesAreRefusedBeforeAllocating) {
  std::string body = "{\"instances\": [[0";
  for (int i = 1; i < 1'000'000; ++i) body += ",0";
  body += "]";
  for (int i = 1; i < 1'000'000; ++i) body += ",[]";
  body += "]}";
  auto t = DecodeV1Instances(body, UnknownShape());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("got [0] in instances[1]"), std::string::npos)
      << t.status().message();
}

// One instance whose first element claims far more than the body holds.
TEST(V1JsonBounds, AShapeLargerThanTheBodyIsRefused) {
  std::string body = "{\"instances\": [[[0";
  for (int i = 1; i < 1000; ++i) body += ",0";
  body += "]";
  for (int i = 1; i < 1000; ++i) body += ",[]";
  body += "]]}";
  auto t = DecodeV1Instances(body, UnknownShape());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("cannot fit in a body of"), std::string::npos)
      << t.status().message();
}

// Regression: a body of 200,000 nested '[' overflowed the replica's stack.
TEST(V1JsonBounds, DeepNestingIsRefused) {
  for (const auto& signature : {UnknownShape(), OneInput(DType::kFloat32, {-1, 3})}) {
    auto t = DecodeV1Instances("{\"instances\": " + std::string(200'000, '['), signature);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.status().message().find("levels deep"), std::string::npos);
    // Deep but well formed, inside a declared shape: refused the same way.
    std::string deep =
        "{\"instances\": [[1, 2, " + std::string(5000, '[') + "3" + std::string(5000, ']') + "]]}";
    EXPECT_FALSE(DecodeV1Instances(deep, signature).ok());
  }
}

TEST(V1JsonBounds, ALongValueWhereANumberBelongsIsNotEchoedWhole) {
  std::string body = "{\"instances\": [[1, 2, \"" + std::string(10'000, 'x') + "\"]]}";
  auto t = DecodeV1Instances(body, OneInput(DType::kFloat32, {-1, 3}));
  ASSERT_FALSE(t.ok());
  EXPECT_LT(t.status().message().size(), 200U) << t.status().message();
  t = DecodeV1Instances("{\"instances\": [[1, 2, [3, 4]]]}", OneInput(DType::kFloat32, {-1, 3}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("got a list"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace axon::protocol
