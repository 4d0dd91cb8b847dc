#include "protocol/v2_grpc_codec.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/v2_request.h"
#include "protocol/v2_response.h"

namespace axon::protocol::v2 {
namespace {

using json = nlohmann::json;
using tensor::DType;

inference::ModelInferRequest::InferInputTensor* AddInput(inference::ModelInferRequest& r,
                                                         const std::string& name,
                                                         const std::string& datatype,
                                                         std::vector<int64_t> shape) {
  auto* input = r.add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t d : shape) input->add_shape(d);
  return input;
}

// The HTTP form decodes with the replica's decoder into the same tensors.
StatusOr<InferRequest> RoundTrip(const inference::ModelInferRequest& r) {
  auto body = InferRequestToHttp(r);
  if (!body.ok()) return body.status();
  return DecodeInferRequest(body->body, body->header_length);
}

template <typename T>
std::vector<T> Values(const tensor::Tensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

TEST(V2GrpcCodec, TypedContentsBecomeBinaryTensors) {
  inference::ModelInferRequest r;
  r.set_model_name("m");
  r.set_id("7");
  (*r.mutable_parameters())["flag"].set_bool_param(true);
  auto* f = AddInput(r, "f", "FP32", {1, 2});
  f->mutable_contents()->add_fp32_contents(1.5f);
  f->mutable_contents()->add_fp32_contents(-2);
  auto* i8 = AddInput(r, "i8", "INT8", {2});
  i8->mutable_contents()->add_int_contents(-128);
  i8->mutable_contents()->add_int_contents(127);
  auto* u16 = AddInput(r, "u16", "UINT16", {1});
  u16->mutable_contents()->add_uint_contents(65535);
  auto* b = AddInput(r, "b", "BOOL", {2});
  b->mutable_contents()->add_bool_contents(true);
  b->mutable_contents()->add_bool_contents(false);
  auto* s = AddInput(r, "s", "BYTES", {2});
  s->mutable_contents()->add_bytes_contents("hi");
  s->mutable_contents()->add_bytes_contents(std::string("\0\xff", 2));
  r.add_outputs()->set_name("y");
  auto decoded = RoundTrip(r);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->id, "7");
  EXPECT_EQ(decoded->parameters["flag"], true);
  EXPECT_TRUE(decoded->binary_outputs);
  EXPECT_TRUE(decoded->BinaryOutput("y"));
  ASSERT_EQ(decoded->inputs.size(), 5u);
  EXPECT_EQ(Values<float>(decoded->inputs[0]), (std::vector<float>{1.5f, -2}));
  EXPECT_EQ(decoded->inputs[0].shape, (tensor::Shape{1, 2}));
  EXPECT_EQ(Values<int8_t>(decoded->inputs[1]), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(Values<uint16_t>(decoded->inputs[2]), (std::vector<uint16_t>{65535}));
  EXPECT_EQ(Values<uint8_t>(decoded->inputs[3]), (std::vector<uint8_t>{1, 0}));
  auto strings = tensor::SplitBytesElements(decoded->inputs[4].data, 2);
  ASSERT_TRUE(strings);
  EXPECT_EQ((*strings)[1], std::string_view("\0\xff", 2));
}

TEST(V2GrpcCodec, RawInputContentsPassAsTheyAre) {
  inference::ModelInferRequest r;
  AddInput(r, "x", "FP16", {2});
  const uint16_t halves[] = {0x3c00, 0xc100};
  r.add_raw_input_contents(std::string(reinterpret_cast<const char*>(halves), sizeof(halves)));
  auto decoded = RoundTrip(r);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->inputs[0].dtype, DType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(decoded->inputs[0]), (std::vector<uint16_t>{0x3c00, 0xc100}));
}

TEST(V2GrpcCodec, ContentsThatDoNotFitAreRejected) {
  auto error = [](auto fill) {
    inference::ModelInferRequest r;
    fill(r);
    auto body = InferRequestToHttp(r);
    return body.ok() ? std::string("(no error)") : body.status().message();
  };
  EXPECT_NE(error([](auto& r) {
              AddInput(r, "x", "FP32", {3})->mutable_contents()->add_fp32_contents(1);
            }).find("input \"x\": shape holds 3 elements, but contents.fp32_contents has 1"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) {
              AddInput(r, "x", "FP32", {1})->mutable_contents()->add_int_contents(1);
            }).find("fp32_contents has 0"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) {
              AddInput(r, "x", "INT8", {1})->mutable_contents()->add_int_contents(300);
            }).find("(300) is out of the range of INT8"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) { AddInput(r, "x", "FP16", {1}); }).find("raw_input_contents"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) {
              AddInput(r, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
              AddInput(r, "y", "FP32", {1});
              r.add_raw_input_contents("abcd");
            }).find("raw_input_contents has 1 entries for 2 inputs"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) {
              AddInput(r, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
              r.add_raw_input_contents("abcd");
            }).find("also has raw_input_contents"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) { AddInput(r, "x", "FLOAT", {1}); }).find("datatype must be one of"),
            std::string::npos);
  EXPECT_NE(error([](auto& r) { AddInput(r, "x", "FP32", {-1}); }).find("sizes >= 0"),
            std::string::npos);
}

TEST(V2GrpcCodec, BinaryAnswersBecomeRawOutputContents) {
  tensor::Tensor y{"y", DType::kFloat32, {1, 2}, {}};
  y.data.resize(8);
  const float values[] = {0.5f, 3};
  std::memcpy(y.data.data(), values, 8);
  InferRequest request;
  request.id = "abc";
  request.binary_outputs = true;
  auto encoded = EncodeInferResponse({"mlp", "4"}, request, std::span(&y, 1));
  ASSERT_TRUE(encoded.ok());
  inference::ModelInferResponse out;
  ASSERT_TRUE(InferResponseFromHttp(encoded->body, encoded->header_length, &out).ok());
  EXPECT_EQ(out.model_name(), "mlp");
  EXPECT_EQ(out.model_version(), "4");
  EXPECT_EQ(out.id(), "abc");
  ASSERT_EQ(out.outputs_size(), 1);
  EXPECT_EQ(out.outputs(0).datatype(), "FP32");
  EXPECT_EQ(out.outputs(0).shape_size(), 2);
  ASSERT_EQ(out.raw_output_contents_size(), 1);
  EXPECT_EQ(out.raw_output_contents(0), std::string(reinterpret_cast<const char*>(values), 8));
  inference::ModelInferResponse bad;
  EXPECT_FALSE(
      InferResponseFromHttp("{\"outputs\": [{\"name\": \"y\", \"data\": [1]}]}", std::nullopt, &bad)
          .ok());
}

TEST(V2GrpcCodec, StatusesAndTargets) {
  EXPECT_EQ(GrpcStatusFor(400, R"({"error": "bad shape"})").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcStatusFor(400, R"({"error": "bad shape"})").error_message(), "bad shape");
  EXPECT_EQ(GrpcStatusFor(404, "").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GrpcStatusFor(503, "").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GrpcStatusFor(504, "x").error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(GrpcStatusFor(500, "x").error_message(), "HTTP 500");
  EXPECT_EQ(ModelTarget("m", "", "/infer"), "/v2/models/m/infer");
  EXPECT_EQ(ModelTarget("m", "3", ""), "/v2/models/m/versions/3");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(ModelMetadataFromJson(json::parse(R"({"name": "m", "versions": ["1"],
      "platform": "onnx_onnxv1",
      "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3]}], "outputs": []})"),
                                    &metadata)
                  .ok());
  EXPECT_EQ(metadata.platform(), "onnx_onnxv1");
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).shape(0), -1);
  inference::ModelMetadataResponse bad;
  EXPECT_FALSE(ModelMetadataFromJson(json::parse(R"({"name": 5})"), &bad).ok());
  inference::ServerMetadataResponse server;
  EXPECT_FALSE(
      ServerMetadataFromJson(nlohmann::json(nlohmann::json::value_t::discarded), &server).ok());
}

}  // namespace
}  // namespace axon::protocol::v2
