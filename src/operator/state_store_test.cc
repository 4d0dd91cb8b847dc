#include "operator/state_store.h"

#include <gtest/gtest.h>

#include "common/files.h"

namespace axon::operator_ {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("axon-store-" + RandomHex(6));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<StateStore> Open() {
    auto store = StateStore::Open(dir_ / "state.db");
    EXPECT_TRUE(store.ok()) << store.status().message();
    return std::move(store).value();
  }
  std::filesystem::path dir_;
};

TEST_F(StateStoreTest, DeployCreatesUpdatesAndKeepsUnchanged) {
  auto store = Open();
  std::vector<StoredApi> apis{{.name = "a", .spec_json = "{}", .content_hash = "h1"}};
  auto actions = store->Deploy(apis);
  ASSERT_TRUE(actions.ok());
  EXPECT_EQ((*actions)[0], DeployAction::kCreated);
  EXPECT_EQ(apis[0].version, 1);

  apis = {{.name = "a", .spec_json = "{}", .content_hash = "h1"}};
  EXPECT_EQ((*store->Deploy(apis))[0], DeployAction::kUnchanged);
  EXPECT_EQ(apis[0].version, 1);

  apis = {{.name = "a", .spec_json = "{\"x\":1}", .content_hash = "h2"}};
  EXPECT_EQ((*store->Deploy(apis))[0], DeployAction::kUpdated);
  EXPECT_EQ(apis[0].version, 2);
  EXPECT_EQ(store->History("a").size(), 2U);
}

TEST_F(StateStoreTest, SurvivesReopen) {
  {
    auto store = Open();
    std::vector<StoredApi> apis{{.name = "a", .spec_json = "{}", .content_hash = "h"},
                                {.name = "b", .spec_json = "{}", .content_hash = "h"}};
    ASSERT_TRUE(store->Deploy(apis).ok());
  }
  auto store = Open();
  const auto apis = store->List();
  ASSERT_EQ(apis.size(), 2U);
  EXPECT_EQ(apis[0].name, "a");
  EXPECT_EQ(apis[1].name, "b");
}

TEST_F(StateStoreTest, DeleteThenRedeployContinuesVersions) {
  auto store = Open();
  std::vector<StoredApi> apis{{.name = "a", .spec_json = "{}", .content_hash = "h"}};
  ASSERT_TRUE(store->Deploy(apis).ok());
  ASSERT_TRUE(store->Delete("a").ok());
  EXPECT_TRUE(store->List().empty());
  EXPECT_EQ(store->Delete("a").code(), StatusCode::kNotFound);
  apis = {{.name = "a", .spec_json = "{}", .content_hash = "h"}};
  EXPECT_EQ((*store->Deploy(apis))[0], DeployAction::kCreated);
  EXPECT_EQ(apis[0].version, 2);
}

TEST_F(StateStoreTest, ReplicasAreReplacedAsAWholeAndSurviveReopen) {
  const StoredReplica a{"a-1", "a", 1, 100, 9000, "@s1", "/tmp/a-1", 0};
  const StoredReplica b{"a-2", "a", 1, 101, 9001, "@s2", "/tmp/a-2", 2};
  {
    auto store = Open();
    ASSERT_TRUE(store->SaveReplicas({a, b}).ok());
    ASSERT_TRUE(store->SaveReplicas({b}).ok());
  }
  auto store = Open();
  EXPECT_EQ(store->Replicas(), std::vector<StoredReplica>{b});
  ASSERT_TRUE(store->SaveReplicas({}).ok());
  EXPECT_TRUE(store->Replicas().empty());
}

}  // namespace
}  // namespace axon::operator_
