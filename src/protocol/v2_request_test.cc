#include "protocol/v2_request.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/v2_model_inputs.h"
#include "protocol/v2_types.h"
#include "tensor/float16.h"

namespace axon::protocol::v2 {
namespace {

using tensor::DType;
using tensor::Signature;
using tensor::Tensor;

StatusOr<InferRequest> Decode(const std::string& body) {
  return DecodeInferRequest(body, std::nullopt);
}

std::string ErrorOf(const StatusOr<InferRequest>& r) {
  return r.ok() ? "(no error)" : r.status().message();
}

// JSON with one input, as a client would write it.
std::string OneInput(const std::string& datatype, const std::string& shape,
                     const std::string& data) {
  return R"({"inputs": [{"name": "x", "datatype": ")" + datatype + R"(", "shape": )" + shape +
         R"(, "data": )" + data + "}]}";
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

TEST(V2Request, FlatAndNestedDataGiveTheSameTensor) {
  auto flat = Decode(OneInput("FP32", "[2, 3]", "[1, 2, 3, 4, 5, 6.5]"));
  auto nested = Decode(OneInput("FP32", "[2, 3]", "[[1, 2, 3], [4, 5, 6.5]]"));
  ASSERT_TRUE(flat.ok()) << ErrorOf(flat);
  ASSERT_TRUE(nested.ok()) << ErrorOf(nested);
  EXPECT_EQ(flat->inputs[0].shape, (tensor::Shape{2, 3}));
  EXPECT_EQ(flat->inputs[0].data, nested->inputs[0].data);
  EXPECT_EQ(Values<float>(flat->inputs[0]), (std::vector<float>{1, 2, 3, 4, 5, 6.5}));
}

TEST(V2Request, EveryDatatypeDecodesFromJson) {
  struct Case {
    const char* datatype;
    const char* data;
    DType dtype;
    size_t bytes;
  };
  const Case cases[] = {
      {"BOOL", "[true, false]", DType::kBool, 2},
      {"UINT8", "[0, 255]", DType::kUInt8, 2},
      {"UINT16", "[0, 65535]", DType::kUInt16, 4},
      {"UINT32", "[0, 4294967295]", DType::kUInt32, 8},
      {"UINT64", "[0, 18446744073709551615]", DType::kUInt64, 16},
      {"INT8", "[-128, 127]", DType::kInt8, 2},
      {"INT16", "[-32768, 32767]", DType::kInt16, 4},
      {"INT32", "[-2147483648, 2147483647]", DType::kInt32, 8},
      {"INT64", "[-9223372036854775808, 9223372036854775807]", DType::kInt64, 16},
      {"FP16", "[1.5, -2]", DType::kFloat16, 4},
      {"FP32", "[1.5, -2]", DType::kFloat32, 8},
      {"FP64", "[1.5, -2]", DType::kFloat64, 16},
      {"BYTES", R"(["ab", ""])", DType::kBytes, 4 + 2 + 4},
  };
  for (const Case& c : cases) {
    auto r = Decode(OneInput(c.datatype, "[2]", c.data));
    ASSERT_TRUE(r.ok()) << c.datatype << ": " << ErrorOf(r);
    EXPECT_EQ(r->inputs[0].dtype, c.dtype) << c.datatype;
    EXPECT_EQ(r->inputs[0].data.size(), c.bytes) << c.datatype;
  }
  auto u64 = Decode(OneInput("UINT64", "[1]", "[18446744073709551615]"));
  EXPECT_EQ(Values<uint64_t>(u64->inputs[0])[0], UINT64_MAX);
  auto i8 = Decode(OneInput("INT8", "[2]", "[-128, 127]"));
  EXPECT_EQ(Values<int8_t>(i8->inputs[0]), (std::vector<int8_t>{-128, 127}));
  auto half = Decode(OneInput("FP16", "[1]", "[-2.5]"));
  EXPECT_EQ(tensor::HalfToFloat(Values<uint16_t>(half->inputs[0])[0]), -2.5f);
}

TEST(V2Request, ValuesOutsideTheirDatatypeAreRejected) {
  const std::pair<std::string, std::string> bad[] = {
      {OneInput("UINT8", "[1]", "[256]"), "data[0] must be UINT8, got 256"},
      {OneInput("UINT16", "[1]", "[-1]"), "data[0] must be UINT16, got -1"},
      {OneInput("INT8", "[1]", "[-129]"), "must be INT8, got -129"},
      {OneInput("INT32", "[2]", "[1, 2.5]"), "data[1] must be INT32, got 2.5"},
      {OneInput("INT64", "[1]", "[18446744073709551615]"), "must be INT64"},
      {OneInput("BOOL", "[1]", "[1]"), "data[0] must be BOOL, got 1"},
      {OneInput("FP32", "[1]", R"(["a"])"), "data[0] must be FP32, got \"a\""},
      {OneInput("FP32", "[1]", "[1e300]"), "out of its range"},
      {OneInput("FP16", "[1]", "[70000]"), "out of its range"},
      {OneInput("BYTES", "[1]", "[1]"), "data[0] must be BYTES, got 1"},
      {OneInput("FP32", "[1]", "[null]"), "must be FP32, got null"},
  };
  for (const auto& [body, phrase] : bad) {
    auto r = Decode(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ErrorOf(r).find(phrase), std::string::npos) << ErrorOf(r);
    EXPECT_NE(ErrorOf(r).find("input \"x\""), std::string::npos) << ErrorOf(r);
  }
}

TEST(V2Request, DataMustMatchTheShape) {
  const std::pair<std::string, std::string> bad[] = {
      {OneInput("FP32", "[2, 2]", "[1, 2, 3]"), "data has 3 elements, but shape [2, 2] holds 4"},
      {OneInput("FP32", "[2, 2]", "[[1, 2], [3]]"), "data[1] must be a list of 2"},
      {OneInput("FP32", "[2, 2]", "[[1, 2], [3, 4], [5, 6]]"), "data must be a list of 2"},
      {OneInput("FP32", "[2, 2]", "[[1, 2], 3]"), "data[1] must be a list of 2"},
      {OneInput("FP32", "[4]", "[1, [2], 3, 4]"), "data[1] must be FP32"},
      {OneInput("FP32", "[1]", "1"), "data must be a list"},
      {OneInput("FP32", "[1, -1]", "[1]"), "shape must be a list of sizes >= 0"},
      {OneInput("FP32", "[1.5]", "[1]"), "shape must be a list of sizes >= 0"},
      {OneInput("FP32", "[4294967296, 2]", "[1]"), "more than the request's JSON"},
      {OneInput("FP32", "[4611686018427387904, 4]", "[1]"), "too many elements"},
  };
  for (const auto& [body, phrase] : bad) {
    auto r = Decode(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(ErrorOf(r).find(phrase), std::string::npos) << ErrorOf(r);
  }
}

TEST(V2Request, MalformedRequestsSayWhatIsWrong) {
  const std::pair<std::string, std::string> bad[] = {
      {"", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {"{}", "needs \"inputs\""},
      {R"({"inputs": []})", "needs \"inputs\""},
      {R"({"inputs": [1]})", "inputs[0] must be an object"},
      {R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})", "inputs[0].name"},
      {OneInput("FLOAT32", "[1]", "[1]"), "datatype must be one of BOOL, UINT8"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]})", "has no data"},
      {R"({"id": 5, "inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]})",
       "id must be a string"},
      {R"({"parameters": {"binary_data_output": 1}, "inputs": [{"name": "x", "shape": [1],
          "datatype": "FP32", "data": [1]}]})",
       "binary_data_output must be true or false"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]},
                      {"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]})",
       "input \"x\" is given twice"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}],
          "outputs": [{"name": "y"}, {"name": "y"}]})",
       "output \"y\" is asked for twice"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}],
          "outputs": [{"name": "y", "parameters": {"binary_data": "yes"}}]})",
       "binary_data must be true or false"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32",
          "parameters": {"binary_data_size": 4}}]})",
       "needs the Inference-Header-Content-Length header"},
  };
  for (const auto& [body, phrase] : bad) {
    auto r = Decode(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ErrorOf(r).find(phrase), std::string::npos) << body << " -> " << ErrorOf(r);
  }
}

TEST(V2Request, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep =
      R"({"inputs": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = Decode(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(ErrorOf(r).find("nests deeper than 64"), std::string::npos) << ErrorOf(r);
  // Brackets inside strings do not count.
  EXPECT_TRUE(JsonDepthAtMost(R"({"a": "[[[[[[\"[[[["})", 1));
  EXPECT_FALSE(JsonDepthAtMost("[[[", 2));
}

// A binary request: JSON header, then `tail`.
struct Binary {
  std::string body;
  uint64_t header_length;
};

Binary WithTail(const std::string& json, const std::string& tail) {
  return {json + tail, json.size()};
}

TEST(V2Request, BinaryInputsAreTakenInOrderFromTheTail) {
  const float floats[] = {1.5f, -2.0f};
  std::string tail(reinterpret_cast<const char*>(floats), sizeof(floats));
  tail += std::string("\x01\x00\x01", 3);
  tail += std::string("\x02\x00\x00\x00hi\x00\x00\x00\x00", 10);
  const auto b = WithTail(
      R"({"inputs": [{"name": "f", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
                     {"name": "b", "shape": [3], "datatype": "BOOL", "parameters": {"binary_data_size": 3}},
                     {"name": "s", "shape": [1, 2], "datatype": "BYTES", "parameters": {"binary_data_size": 10}},
                     {"name": "j", "shape": [1], "datatype": "INT64", "data": [7]}],
          "outputs": [{"name": "y", "parameters": {"binary_data": true}}, {"name": "z"}]})",
      tail);
  auto r = DecodeInferRequest(b.body, b.header_length);
  ASSERT_TRUE(r.ok()) << ErrorOf(r);
  ASSERT_EQ(r->inputs.size(), 4u);
  EXPECT_EQ(Values<float>(r->inputs[0]), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(Values<uint8_t>(r->inputs[1]), (std::vector<uint8_t>{1, 0, 1}));
  auto strings = tensor::SplitBytesElements(r->inputs[2].data, 2);
  ASSERT_TRUE(strings);
  EXPECT_EQ((*strings)[0], "hi");
  EXPECT_EQ((*strings)[1], "");
  EXPECT_EQ(Values<int64_t>(r->inputs[3]), (std::vector<int64_t>{7}));
  EXPECT_TRUE(r->BinaryOutput("y"));
  EXPECT_FALSE(r->BinaryOutput("z"));
}

TEST(V2Request, BinaryDataThatDoesNotFitIsRejected) {
  const std::string input =
      R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]})";
  const std::pair<Binary, std::string> bad[] = {
      {WithTail(input, std::string(4, '\0')), "only 4 bytes of binary data are left"},
      {WithTail(input, std::string(12, '\0')), "binary_data_size add up to 8"},
      {{input + std::string(8, '\0'), input.size() + 100}, "but the body has only"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                   "parameters": {"binary_data_size": 4}}]})",
                std::string(4, '\0')),
       "shape [2] of FP32 needs 8 bytes, but binary_data_size is 4"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [4294967296, 2], "datatype": "FP64",
                   "parameters": {"binary_data_size": 8}}]})",
                std::string(8, '\0')),
       "needs 68719476736 bytes, but binary_data_size is 8"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "BOOL",
                   "parameters": {"binary_data_size": 2}}]})",
                std::string("\x01\x07", 2)),
       "BOOL element 1 is byte 7"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "BYTES",
                   "parameters": {"binary_data_size": 6}}]})",
                std::string("\x09\x00\x00\x00hi", 6)),
       "are not 2 BYTES elements"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1],
                   "parameters": {"binary_data_size": 4}}]})",
                std::string(4, '\0')),
       "has both data and parameters.binary_data_size"},
      {WithTail(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32",
                   "parameters": {"binary_data_size": -4}}]})",
                std::string(4, '\0')),
       "binary_data_size must be a byte count"},
  };
  for (const auto& [b, phrase] : bad) {
    auto r = DecodeInferRequest(b.body, b.header_length);
    ASSERT_FALSE(r.ok()) << b.body;
    EXPECT_NE(ErrorOf(r).find(phrase), std::string::npos) << ErrorOf(r);
  }
}

TEST(V2Request, HeaderLengthValues) {
  EXPECT_EQ(*ParseHeaderLength("123"), 123u);
  EXPECT_FALSE(ParseHeaderLength("").ok());
  EXPECT_FALSE(ParseHeaderLength("12a").ok());
  EXPECT_FALSE(ParseHeaderLength("-1").ok());
  EXPECT_FALSE(ParseHeaderLength("99999999999999999999999").ok());
}

Signature Model() {
  return {{{"a", DType::kFloat32, {-1, 2}}, {"b", DType::kInt64, {-1}}},
          {{"y", DType::kFloat32, {-1}}}};
}

StatusOr<std::vector<Tensor>> ForModel(const std::string& body) {
  auto r = Decode(body);
  if (!r.ok()) return r.status();
  return InputsForSignature(*r, Model());
}

std::string ErrorOf(const StatusOr<std::vector<Tensor>>& r) {
  return r.ok() ? "(no error)" : r.status().message();
}

TEST(V2ModelInputs, OrdersAndConvertsLosslessly) {
  auto t = ForModel(R"({"inputs": [
      {"name": "b", "shape": [2], "datatype": "INT16", "data": [3, -4]},
      {"name": "a", "shape": [2, 2], "datatype": "FP16", "data": [[1, 2], [0.5, -1]]}]})");
  ASSERT_TRUE(t.ok()) << ErrorOf(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].name, "a");
  EXPECT_EQ((*t)[0].dtype, DType::kFloat32);
  EXPECT_EQ(Values<float>((*t)[0]), (std::vector<float>{1, 2, 0.5, -1}));
  EXPECT_EQ((*t)[1].dtype, DType::kInt64);
  EXPECT_EQ(Values<int64_t>((*t)[1]), (std::vector<int64_t>{3, -4}));
}

TEST(V2ModelInputs, RejectsWhatTheModelCannotTake) {
  const std::string a = R"({"name": "a", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]})";
  const std::string b = R"({"name": "b", "shape": [1], "datatype": "INT64", "data": [1]})";
  const std::pair<std::string, std::string> bad[] = {
      {"[" + a + "]", "the request lacks input \"b\"; the model's inputs: a, b"},
      {"[" + a + "," + b + R"(, {"name": "c", "shape": [1], "datatype": "FP32", "data": [1]}])",
       "the model has no input \"c\"; its inputs: a, b"},
      {R"([{"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]},)" + b + "]",
       "input \"a\": the model takes shape [-1, 2] (-1: any size), got [1, 3]"},
      {R"([{"name": "a", "shape": [2], "datatype": "FP32", "data": [1, 2]},)" + b + "]", "got [2]"},
      {R"([{"name": "a", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]},)" + b + "]",
       "input \"a\": the model takes FP32, got FP64, which cannot be converted to it without "
       "losing values; send FP32"},
      {R"([{"name": "a", "shape": [1, 2], "datatype": "INT32", "data": [1, 2]},)" + b + "]",
       "the model takes FP32, got INT32"},
      {R"([{"name": "a", "shape": [1, 2], "datatype": "BYTES", "data": ["1", "2"]},)" + b + "]",
       "the model takes FP32, got BYTES; send FP32"},
      {a + R"(, {"name": "b", "shape": [1], "datatype": "UINT64", "data": [1]})",
       "the model takes INT64, got UINT64"},
      {a + R"(, {"name": "b", "shape": [2], "datatype": "INT64", "data": [1, 2]})",
       "batch sizes (first dimensions) 1 and 2"},
      {R"([{"name": "a", "shape": [0, 2], "datatype": "FP32", "data": []},)" + b + "]",
       "the first dimension is the batch and must be at least 1"},
  };
  for (auto [inputs, phrase] : bad) {
    if (inputs.front() != '[') inputs = "[" + inputs + "]";
    auto t = ForModel(R"({"inputs": )" + inputs + "}");
    ASSERT_FALSE(t.ok()) << inputs;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ErrorOf(t).find(phrase), std::string::npos) << ErrorOf(t);
  }
}

TEST(V2ModelInputs, UnknownShapesAreNotChecked) {
  Signature any{{{"x", DType::kFloat32, {}, /*shape_known=*/false}}, {}};
  auto r = Decode(OneInput("FP32", "[1, 2, 3]", "[1, 2, 3, 4, 5, 6]"));
  ASSERT_TRUE(r.ok());
  auto t = InputsForSignature(*r, any);
  ASSERT_TRUE(t.ok()) << ErrorOf(t);
  EXPECT_EQ((*t)[0].shape, (tensor::Shape{1, 2, 3}));
}

}  // namespace
}  // namespace axon::protocol::v2
