#include "protocol/v2_response.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/v2_metadata.h"
#include "tensor/float16.h"

namespace axon::protocol::v2 {
namespace {

using json = nlohmann::json;
using tensor::DType;
using tensor::Tensor;

template <typename T>
Tensor Make(std::string name, DType dtype, tensor::Shape shape, std::vector<T> values) {
  Tensor t{std::move(name), dtype, std::move(shape), {}};
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

InferRequest Asking(std::vector<RequestedOutput> outputs, bool binary_outputs = false) {
  InferRequest r;
  r.outputs = std::move(outputs);
  r.binary_outputs = binary_outputs;
  return r;
}

TEST(V2Response, JsonOutputsAreFlatRowMajor) {
  const Tensor y = Make<float>("y", DType::kFloat32, {2, 2}, {0.5f, 1, -2, 0.25f});
  InferRequest request;
  request.id = "42";
  auto r = EncodeInferResponse({"mlp", "3"}, request, std::span(&y, 1));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->header_length, 0u);
  EXPECT_EQ(r->content_type(), "application/json");
  EXPECT_EQ(r->body, R"({"model_name":"mlp","model_version":"3","id":"42","outputs":[{"name":"y",)"
                     R"("datatype":"FP32","shape":[2,2],"data":[0.5,1,-2,0.25]}]})");
  EXPECT_TRUE(json::accept(r->body));
}

TEST(V2Response, EveryDatatypeAsJson) {
  std::vector<Tensor> outputs{
      Make<uint8_t>("bool", DType::kBool, {2}, {1, 0}),
      Make<uint64_t>("u64", DType::kUInt64, {1}, {UINT64_MAX}),
      Make<int8_t>("i8", DType::kInt8, {2}, {-128, 127}),
      Make<uint16_t>("f16", DType::kFloat16, {1}, {tensor::FloatToHalf(-2.5f)}),
      Make<double>("f64", DType::kFloat64, {1}, {0.1}),
  };
  Tensor s{"s", DType::kBytes, {2}, {}};
  tensor::AppendBytesElement(s.data, "h\"i");
  tensor::AppendBytesElement(s.data, "");
  outputs.push_back(std::move(s));
  auto r = EncodeInferResponse({"m", ""}, InferRequest{}, outputs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const json doc = json::parse(r->body);
  EXPECT_FALSE(doc.contains("model_version"));
  EXPECT_FALSE(doc.contains("id"));
  const json& out = doc["outputs"];
  EXPECT_EQ(out[0]["datatype"], "BOOL");
  EXPECT_EQ(out[0]["data"], json::parse("[true, false]"));
  EXPECT_EQ(out[1]["data"][0].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(out[2]["data"], json::parse("[-128, 127]"));
  EXPECT_EQ(out[3]["datatype"], "FP16");
  EXPECT_EQ(out[3]["data"][0].get<double>(), -2.5);
  EXPECT_EQ(out[4]["data"][0].get<double>(), 0.1);
  EXPECT_EQ(out[5]["datatype"], "BYTES");
  EXPECT_EQ(out[5]["data"], json::parse(R"(["h\"i", ""])"));
}

TEST(V2Response, BinaryOutputsFollowTheJsonInOrder) {
  const std::vector<Tensor> outputs{Make<float>("a", DType::kFloat32, {2}, {1, 2}),
                                    Make<int32_t>("b", DType::kInt32, {1}, {7}),
                                    Make<int64_t>("c", DType::kInt64, {1}, {9})};
  // b as JSON, the others binary (a by its own parameter, c by binary_data_output).
  auto r = EncodeInferResponse(
      {"m", "1"}, Asking({{"c", std::nullopt}, {"b", false}, {"a", true}}, /*binary_outputs=*/true),
      outputs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_GT(r->header_length, 0u);
  EXPECT_EQ(r->content_type(), "application/octet-stream");
  const json doc = json::parse(r->body.substr(0, r->header_length));
  ASSERT_EQ(doc["outputs"].size(), 3u);
  EXPECT_EQ(doc["outputs"][0]["name"], "c");
  EXPECT_EQ(doc["outputs"][0]["parameters"]["binary_data_size"], 8);
  EXPECT_FALSE(doc["outputs"][0].contains("data"));
  EXPECT_EQ(doc["outputs"][1]["data"], json::parse("[7]"));
  EXPECT_EQ(doc["outputs"][2]["parameters"]["binary_data_size"], 8);
  const std::string tail = r->body.substr(r->header_length);
  ASSERT_EQ(tail.size(), 16u);
  int64_t c = 0;
  float a[2];
  std::memcpy(&c, tail.data(), 8);
  std::memcpy(a, tail.data() + 8, 8);
  EXPECT_EQ(c, 9);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(a[1], 2);
}

TEST(V2Response, UnknownOutputsAndNonUtf8BytesAreRequestErrors) {
  const Tensor y = Make<float>("y", DType::kFloat32, {1}, {1});
  auto unknown = EncodeInferResponse({"m", ""}, Asking({{"z", std::nullopt}}), std::span(&y, 1));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("no output \"z\" to send; the outputs are: y"),
            std::string::npos);
  Tensor s{"s", DType::kBytes, {1}, {}};
  tensor::AppendBytesElement(s.data, "\xff\xfe");
  auto as_json = EncodeInferResponse({"m", ""}, InferRequest{}, std::span(&s, 1));
  ASSERT_FALSE(as_json.ok());
  EXPECT_NE(as_json.status().message().find("not UTF-8"), std::string::npos);
  auto as_binary = EncodeInferResponse({"m", ""}, Asking({}, true), std::span(&s, 1));
  ASSERT_TRUE(as_binary.ok());
  EXPECT_EQ(as_binary->body.substr(as_binary->header_length), std::string("\x02\0\0\0\xff\xfe", 6));
}

TEST(V2Response, ATensorThatDoesNotHoldItsShapeIsAnInternalError) {
  Tensor broken = Make<float>("y", DType::kFloat32, {3}, {1, 2});
  auto r = EncodeInferResponse({"m", ""}, InferRequest{}, std::span(&broken, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(V2Metadata, MapsTheReplicasSignature) {
  const json replica = json::parse(R"({"type": "torchscript", "model_file": "/srv/m/1/model.pt",
      "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 64]}],
      "outputs": [{"name": "y", "dtype": "int64", "shape": null}]})");
  const json m = ModelMetadata("mlp", {2, 3}, replica);
  EXPECT_EQ(m, json::parse(R"({"name": "mlp", "versions": ["2", "3"],
      "platform": "pytorch_torchscript",
      "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 64]}],
      "outputs": [{"name": "y", "datatype": "INT64", "shape": []}]})"));
  EXPECT_EQ(m.dump().find("/srv"), std::string::npos);  // no server paths
  const json python = ModelMetadata("p", {1}, nullptr);
  EXPECT_EQ(python["platform"], "python");
  EXPECT_EQ(python["inputs"], json::array());
  EXPECT_EQ(PlatformFor("onnx"), "onnx_onnxv1");
  EXPECT_EQ(PlatformFor("xgboost"), "xgboost");
}

}  // namespace
}  // namespace axon::protocol::v2
