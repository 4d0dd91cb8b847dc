// ParseModelUrl's forms and errors; downloads themselves run against a real HTTP server in
// tests/integration/test_model_url.py.
#include "operator/model_download.h"

#include <gtest/gtest.h>

namespace axon::operator_ {
namespace {

TEST(ModelUrl, ParsesHostPortTargetAndFileName) {
  auto plain = ParseModelUrl("http://127.0.0.1:8000/models/v1/model.onnx");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->peer.host, "127.0.0.1");
  EXPECT_EQ(plain->peer.port, 8000);
  EXPECT_FALSE(plain->peer.tls);
  EXPECT_EQ(plain->target, "/models/v1/model.onnx");
  EXPECT_EQ(plain->file_name, "model.onnx");

  auto signed_url = ParseModelUrl("https://bucket.s3.amazonaws.com/mlp.pt?X-Amz-Signature=ab%2F");
  ASSERT_TRUE(signed_url.ok());
  EXPECT_TRUE(signed_url->peer.tls);
  EXPECT_EQ(signed_url->peer.port, 443);
  EXPECT_EQ(signed_url->target, "/mlp.pt?X-Amz-Signature=ab%2F");
  EXPECT_EQ(signed_url->file_name, "mlp.pt");  // the query is not part of the name

  // A name that is not safe for a file is made safe; none at all is "model".
  EXPECT_EQ(ParseModelUrl("http://h/a%20b$.json")->file_name, "a_20b_.json");
  EXPECT_EQ(ParseModelUrl("http://h/..")->file_name, "model");
  EXPECT_EQ(ParseModelUrl("http://h")->target, "/");
  EXPECT_EQ(ParseModelUrl("http://h")->peer.port, 80);
}

TEST(ModelUrl, ErrorsSayWhatIsWrong) {
  EXPECT_NE(ParseModelUrl("ftp://h/m").status().message().find("expected http:// or https://"),
            std::string::npos);
  EXPECT_NE(ParseModelUrl("http://:80/m").status().message().find("no host"), std::string::npos);
  EXPECT_NE(ParseModelUrl("http://h:99999/m").status().message().find("bad port"),
            std::string::npos);
  EXPECT_NE(ParseModelUrl("http://h:x/m").status().message().find("bad port"), std::string::npos);
  EXPECT_NE(ParseModelUrl("https://user:pw@h/m").status().message().find("credentials"),
            std::string::npos);
}

}  // namespace
}  // namespace axon::operator_
