#include "operator/uploads.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "common/files.h"
#include "kube/base64.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

class Uploads : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("uploads-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  size_t Folders() const {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_, ec)) ++n;
    return n;
  }
  fs::path root_;
};

TEST_F(Uploads, WritesTheFilesInANewFolder) {
  auto dir = WriteUpload(root_, {{"axon.yaml", kube::EncodeBase64("name: x\n")},
                                 {"model/w.bin", kube::EncodeBase64(std::string("\0\1\2", 3))}});
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(dir->parent_path(), root_);
  EXPECT_EQ(*ReadFile(*dir / "axon.yaml"), "name: x\n");
  EXPECT_EQ(*ReadFile(*dir / "model" / "w.bin"), std::string("\0\1\2", 3));
  auto second = WriteUpload(root_, nlohmann::json::object());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *dir) << "each deploy gets a folder of its own";
}

TEST_F(Uploads, RefusesPathsOutsideTheFolderAndBadContentLeavingNothing) {
  for (const char* bad : {"../escape.py", "/etc/passwd", "a/../../b", "", "."}) {
    auto dir = WriteUpload(root_, {{"ok.py", kube::EncodeBase64("x")}, {bad, "eA=="}});
    ASSERT_FALSE(dir.ok()) << bad;
    EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(dir.status().message().find("not a path inside the spec file's folder"),
              std::string::npos)
        << dir.status().message();
  }
  auto bad_content = WriteUpload(root_, {{"p.py", "not base64!"}});
  ASSERT_FALSE(bad_content.ok());
  EXPECT_NE(bad_content.status().message().find("files[\"p.py\"]"), std::string::npos);
  EXPECT_FALSE(WriteUpload(root_, {{"p.py", 3}}).ok());
  EXPECT_FALSE(WriteUpload(root_, nlohmann::json::array()).ok());
  EXPECT_EQ(Folders(), 0u);
  EXPECT_FALSE(fs::exists("/tmp/escape.py"));
}

}  // namespace
}  // namespace axon::operator_
