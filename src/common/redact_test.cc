#include "common/redact.h"

#include <gtest/gtest.h>

namespace axon {
namespace {

TEST(PublicMessageTest, ReplacesAbsolutePaths) {
  EXPECT_EQ(PublicMessage("predict() raised FileNotFoundError: [Errno 2] No such file or "
                          "directory: '/root/.axon/bundles/ab12/weights.bin'"),
            "predict() raised FileNotFoundError: [Errno 2] No such file or directory: '<path>'");
  EXPECT_EQ(PublicMessage("cannot open /srv/models/mlp/1/model.pt."), "cannot open <path>.");
  EXPECT_EQ(PublicMessage("failed (path=/a/b/c)"), "failed (path=<path>)");
}

TEST(PublicMessageTest, KeepsWhatIsNotAPath) {
  EXPECT_EQ(PublicMessage("no API is deployed at /iris"), "no API is deployed at /iris");
  EXPECT_EQ(PublicMessage("see http://example.com/a/b for more"),
            "see http://example.com/a/b for more");
  EXPECT_EQ(PublicMessage("shapes (2,3) and 4/5 differ"), "shapes (2,3) and 4/5 differ");
}

TEST(PublicMessageTest, TakesOneLineOfATraceback) {
  const char* torch =
      "The following operation failed in the TorchScript interpreter.\n"
      "Traceback of TorchScript, serialized code (most recent call last):\n"
      "  File \"code/__torch__.py\", line 10, in forward\n"
      "    input = torch.linear(x, weight, bias)\n"
      "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 64x256)\n";
  EXPECT_EQ(PublicMessage(torch),
            "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 64x256)");
  EXPECT_EQ(PublicMessage("first line\nsecond line /x/y"), "first line");
  EXPECT_EQ(PublicMessage(""), "internal error");
  EXPECT_EQ(PublicMessage(std::string(1000, 'x')).size(), 400U);
}

}  // namespace
}  // namespace axon
