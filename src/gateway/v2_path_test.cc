#include "gateway/v2_path.h"

#include <gtest/gtest.h>

namespace axon::gateway {
namespace {

TEST(V2Path, ParsesEveryPathOfTheProtocol) {
  EXPECT_EQ(ParseV2Path("/v2").kind, V2Path::kServerMetadata);
  EXPECT_EQ(ParseV2Path("/v2/health/live").kind, V2Path::kLive);
  EXPECT_EQ(ParseV2Path("/v2/health/ready").kind, V2Path::kReady);
  const V2Path metadata = ParseV2Path("/v2/models/mlp");
  EXPECT_EQ(metadata.kind, V2Path::kModelMetadata);
  EXPECT_EQ(metadata.model, "mlp");
  EXPECT_EQ(metadata.version, "");
  const V2Path versioned = ParseV2Path("/v2/models/mlp/versions/3/infer");
  EXPECT_EQ(versioned.kind, V2Path::kInfer);
  EXPECT_EQ(versioned.model, "mlp");
  EXPECT_EQ(versioned.version, "3");
  EXPECT_EQ(ParseV2Path("/v2/models/mlp/versions/3").kind, V2Path::kModelMetadata);
  EXPECT_EQ(ParseV2Path("/v2/models/mlp/versions/3/ready").kind, V2Path::kModelReady);
  EXPECT_EQ(ParseV2Path("/v2/models/mlp/ready").kind, V2Path::kModelReady);
  EXPECT_EQ(ParseV2Path("/v2/models/mlp/infer").kind, V2Path::kInfer);
  // A model may be named like a path word.
  EXPECT_EQ(ParseV2Path("/v2/models/infer/infer").model, "infer");
  EXPECT_EQ(ParseV2Path("/v2/models/versions").kind, V2Path::kModelMetadata);
}

TEST(V2Path, OtherPathsUnderV2AreNone) {
  for (const char* path :
       {"/v2/", "/v2/models", "/v2/models/", "/v2/models//infer", "/v2/models/m/infer/",
        "/v2/models/m/versions", "/v2/models/m/versions/", "/v2/models/m/versions/1/x",
        "/v2/models/m/explain", "/v2/health", "/v2/health/live/x", "/v2/repository/index"}) {
    EXPECT_EQ(ParseV2Path(path).kind, V2Path::kNone) << path;
  }
  EXPECT_TRUE(IsV2Path("/v2"));
  EXPECT_TRUE(IsV2Path("/v2/x"));
  EXPECT_FALSE(IsV2Path("/v2x"));
  EXPECT_FALSE(IsV2Path("/iris"));
}

}  // namespace
}  // namespace axon::gateway
