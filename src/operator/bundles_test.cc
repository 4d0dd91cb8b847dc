#include "operator/bundles.h"

#include <gtest/gtest.h>

#include "common/files.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

class BundlesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("axon-bundles-" + RandomHex(6));
    fs::create_directories(dir_ / "src" / "sub");
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "predictor.py", "print(1)\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "sub" / "weights.bin", "0123").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BundlesTest, SameContentSameBundle) {
  BundleStore store(dir_ / "bundles");
  auto first = store.Add(dir_ / "src");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(ReadFile(store.Path(*first) / "sub" / "weights.bin").value(), "0123");
  auto again = store.Add(dir_ / "src");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  // Hidden files and __pycache__ are not part of a bundle.
  fs::create_directories(dir_ / "src" / "__pycache__");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "__pycache__" / "x.pyc", "junk").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / ".hidden", "junk").ok());
  EXPECT_EQ(*store.Add(dir_ / "src"), *first);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "bundles"), fs::directory_iterator()), 1);
}

TEST_F(BundlesTest, ContentAndNamesMatter) {
  BundleStore store(dir_ / "bundles");
  const std::string first = *store.Add(dir_ / "src");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "sub" / "weights.bin", "0124").ok());
  const std::string changed = *store.Add(dir_ / "src");
  EXPECT_NE(changed, first);
  fs::rename(dir_ / "src" / "sub" / "weights.bin", dir_ / "src" / "sub" / "weights2.bin");
  EXPECT_NE(*store.Add(dir_ / "src"), changed);
  EXPECT_EQ(*FolderHash(dir_ / "src"), *store.Add(dir_ / "src"));
}

// The spec file being deployed is not part of the bundle: a change to the spec alone does not
// copy the folder again.
TEST_F(BundlesTest, TheSpecFileIsLeftOut) {
  BundleStore store(dir_ / "bundles");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "axon.yaml", "name: a\n").ok());
  const std::string first = *store.Add(dir_ / "src", dir_ / "src" / "axon.yaml");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "axon.yaml", "name: a\nkind: RealtimeAPI\n").ok());
  EXPECT_EQ(*store.Add(dir_ / "src", dir_ / "src" / "./axon.yaml"), first);
  EXPECT_FALSE(fs::exists(store.Path(first) / "axon.yaml"));
  EXPECT_NE(*store.Add(dir_ / "src"), first);  // not excluded: part of the content
}

TEST_F(BundlesTest, CollectKeepsOnlyWhatIsReferenced) {
  BundleStore store(dir_ / "bundles");
  const std::string a = *store.Add(dir_ / "src");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "predictor.py", "print(2)\n").ok());
  const std::string b = *store.Add(dir_ / "src");
  fs::create_directories(dir_ / "bundles" / ".partial-abc");  // an interrupted copy
  EXPECT_EQ(store.Collect({b}), 2);
  EXPECT_FALSE(fs::exists(store.Path(a)));
  EXPECT_TRUE(fs::exists(store.Path(b)));
  EXPECT_FALSE(fs::exists(dir_ / "bundles" / ".partial-abc"));
}

TEST_F(BundlesTest, AMissingFolderIsAnError) {
  BundleStore store(dir_ / "bundles");
  auto missing = store.Add(dir_ / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace axon::operator_
