// ParseModelUrl's forms and errors; downloads themselves run against a real HTTP server in
// tests/integration/test_model_url.py.
#include "common/model_url.h"

#include <gtest/gtest.h>

namespace axon {
namespace {

std::string Error(std::string_view url) { return ParseModelUrl(url).status().message(); }

TEST(ModelUrl, ParsesHostPortTargetAndFileName) {
  auto plain = ParseModelUrl("http://127.0.0.1:8000/models/v1/model.onnx");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 8000);
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->target, "/models/v1/model.onnx");
  EXPECT_EQ(plain->file_name, "model.onnx");

  auto signed_url = ParseModelUrl("https://bucket.s3.amazonaws.com/mlp.pt?X-Amz-Signature=ab%2F");
  ASSERT_TRUE(signed_url.ok());
  EXPECT_TRUE(signed_url->tls);
  EXPECT_EQ(signed_url->port, 443);
  EXPECT_EQ(signed_url->target, "/mlp.pt?X-Amz-Signature=ab%2F");
  EXPECT_EQ(signed_url->file_name, "mlp.pt");  // the query is not part of the name

  EXPECT_EQ(ParseModelUrl("http://h/a%20b$.json")->file_name, "a_20b_.json");  // made safe
  EXPECT_EQ(ParseModelUrl("http://h/m")->port, 80);
}

TEST(ModelUrl, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(Error("ftp://h/m"), "expected http:// or https://");
  EXPECT_EQ(Error("http://:80/m"), "no host");
  EXPECT_EQ(Error("http://h:99999/m"), "bad port \"99999\"");
  EXPECT_EQ(Error("http://h:x/m"), "bad port \"x\"");
  EXPECT_EQ(Error("https://user:pw@h/m"),
            "credentials in the URL are not taken (use a signed URL)");
  EXPECT_EQ(Error("http://h"), "no path to a model file");
  EXPECT_EQ(Error("https://h/models/"), "the path names no file");
  EXPECT_EQ(Error("http://h/.."), "the path names no file");
}

}  // namespace
}  // namespace axon
