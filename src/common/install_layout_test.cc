#include "common/install_layout.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"

namespace axon {
namespace {

namespace fs = std::filesystem;

// A scratch folder, removed at the end of the test.
class InstallLayoutTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(root_); }

  // Creates an executable file (or a plain one) at root_/relative.
  void MakeFile(const fs::path& relative, bool executable = true) {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "#!/bin/sh\n";
    fs::permissions(path, executable ? fs::perms::owner_all : fs::perms::owner_read);
  }

  const fs::path root_ = fs::temp_directory_path() / ("axon-layout-" + RandomHex(6));
};

TEST_F(InstallLayoutTest, PrefixIsAboveBinOrAboveLibexecAxon) {
  EXPECT_EQ(InstallPrefix("/work/build/bin"), "/work/build");
  EXPECT_EQ(InstallPrefix("/usr/bin"), "/usr");
  EXPECT_EQ(InstallPrefix("/usr/libexec/axon"), "/usr");
  EXPECT_EQ(InstallPrefix("/usr/libexec/axon/"), "/usr");
  EXPECT_EQ(InstallPrefix("/opt/axon"), "/opt");  // not under libexec: an ordinary folder
}

TEST_F(InstallLayoutTest, BuildFolderFindsSiblings) {
  MakeFile("build/bin/axon");
  MakeFile("build/bin/axon-operator");
  auto path = ProgramPath("axon-operator", root_ / "build/bin");
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_EQ(*path, root_ / "build/bin/axon-operator");
  EXPECT_EQ(ModulePath("onnx", root_ / "build/bin"), root_ / "build/lib/axon/libaxon_onnx.so");
  // Programs side by side in a folder of any name are found too.
  MakeFile("tools/axon-gateway");
  auto beside = ProgramPath("axon-gateway", root_ / "tools");
  ASSERT_TRUE(beside.ok()) << beside.status().message();
  EXPECT_EQ(*beside, root_ / "tools/axon-gateway");
}

TEST_F(InstallLayoutTest, InstalledCliFindsProgramsInLibexec) {
  MakeFile("usr/bin/axon");
  MakeFile("usr/libexec/axon/axon-operator");
  MakeFile("usr/libexec/axon/axon-replica");
  auto from_cli = ProgramPath("axon-operator", root_ / "usr/bin");
  ASSERT_TRUE(from_cli.ok()) << from_cli.status().message();
  EXPECT_EQ(*from_cli, root_ / "usr/libexec/axon/axon-operator");
  // The operator, itself in libexec/axon, finds the replica beside it and the modules in lib.
  auto from_operator = ProgramPath("axon-replica", root_ / "usr/libexec/axon");
  ASSERT_TRUE(from_operator.ok()) << from_operator.status().message();
  EXPECT_EQ(*from_operator, root_ / "usr/libexec/axon/axon-replica");
  EXPECT_EQ(ModulePath("xgboost", root_ / "usr/libexec/axon"),
            root_ / "usr/lib/axon/libaxon_xgboost.so");
}

TEST_F(InstallLayoutTest, MissingOrNotExecutableProgramIsNotFoundWithBothFolders) {
  MakeFile("copied/bin/axon");
  MakeFile("copied/bin/axon-gateway", /*executable=*/false);
  for (const char* name : {"axon-operator", "axon-gateway"}) {
    auto path = ProgramPath(name, root_ / "copied/bin");
    ASSERT_FALSE(path.ok()) << name;
    EXPECT_EQ(path.status().code(), StatusCode::kNotFound);
    const std::string& message = path.status().message();
    EXPECT_NE(message.find((root_ / "copied/libexec/axon").string()), std::string::npos) << message;
    EXPECT_NE(message.find((root_ / "copied/bin").string()), std::string::npos) << message;
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace axon
