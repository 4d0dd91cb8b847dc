#include "operator/state_store.h"

#include <sqlite3.h>

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

  apis = {{.name = "a", .spec_json = "{\"x\":1}", .content_hash = "h2", .bundle = "b2"}};
  EXPECT_EQ((*store->Deploy(apis))[0], DeployAction::kUpdated);
  EXPECT_EQ(apis[0].version, 2);
  EXPECT_EQ(store->History("a")->size(), 2U);
  EXPECT_EQ(store->List()->at(0).bundle, "b2");
}

TEST_F(StateStoreTest, SurvivesReopen) {
  {
    auto store = Open();
    std::vector<StoredApi> apis{{.name = "a", .spec_json = "{}", .content_hash = "h"},
                                {.name = "b", .spec_json = "{}", .content_hash = "h"}};
    ASSERT_TRUE(store->Deploy(apis).ok());
  }
  auto store = Open();
  const auto apis = *store->List();
  ASSERT_EQ(apis.size(), 2U);
  EXPECT_EQ(apis[0].name, "a");
  EXPECT_EQ(apis[1].name, "b");
}

TEST_F(StateStoreTest, DeleteForgetsTheApiButVersionsKeepCounting) {
  auto store = Open();
  std::vector<StoredApi> apis{{.name = "a", .spec_json = "{}", .content_hash = "h", .bundle = "x"}};
  ASSERT_TRUE(store->Deploy(apis).ok());
  ASSERT_TRUE(store->AddKey({.api = "a", .id = "k", .hash = "kh"}).ok());
  ASSERT_TRUE(store->Delete("a").ok());
  EXPECT_TRUE(store->List()->empty());
  EXPECT_TRUE(store->History("a")->empty());
  EXPECT_TRUE(store->Keys("a")->empty());
  EXPECT_TRUE(store->ReferencedBundles()->empty());
  EXPECT_EQ(store->Delete("a").code(), StatusCode::kNotFound);
  apis = {{.name = "a", .spec_json = "{}", .content_hash = "h"}};
  EXPECT_EQ((*store->Deploy(apis))[0], DeployAction::kCreated);
  EXPECT_EQ(apis[0].version, 2);
}

TEST_F(StateStoreTest, KeepsTheLastVersionsAndTheirBundles) {
  auto store = Open();
  for (int v = 1; v <= kKeptVersions + 3; ++v) {
    std::vector<StoredApi> apis{{.name = "a",
                                 .spec_json = "{}",
                                 .content_hash = "h" + std::to_string(v),
                                 .bundle = "b" + std::to_string(v)}};
    ASSERT_TRUE(store->Deploy(apis).ok());
  }
  const auto history = *store->History("a");
  ASSERT_EQ(history.size(), static_cast<size_t>(kKeptVersions));
  EXPECT_EQ(history.front().version, 4);
  EXPECT_EQ(history.back().version, kKeptVersions + 3);
  const auto bundles = *store->ReferencedBundles();
  EXPECT_EQ(bundles.size(), static_cast<size_t>(kKeptVersions));
  EXPECT_FALSE(bundles.contains("b3"));
  EXPECT_TRUE(bundles.contains("b4"));
}

TEST_F(StateStoreTest, ReplicasAreReplacedAsAWholeAndSurviveReopen) {
  const StoredReplica a{"a-1", "a", 1, 100, 555, 9000, "@s1", "/tmp/a-1", 0};
  const StoredReplica b{"a-2", "a", 1, 101, 556, 9001, "@s2", "/tmp/a-2", 2};
  {
    auto store = Open();
    ASSERT_TRUE(store->SaveReplicas({a, b}).ok());
    ASSERT_TRUE(store->SaveReplicas({b}).ok());
  }
  auto store = Open();
  EXPECT_EQ(*store->Replicas(), std::vector<StoredReplica>{b});
  ASSERT_TRUE(store->SaveReplicas({}).ok());
  EXPECT_TRUE(store->Replicas()->empty());
}

TEST_F(StateStoreTest, Keys) {
  auto store = Open();
  ASSERT_TRUE(store->AddKey({.api = "a", .id = "k1", .hash = "h1", .created_at = 1}).ok());
  ASSERT_TRUE(store->AddKey({.api = "a", .id = "k2", .hash = "h2", .created_at = 2}).ok());
  EXPECT_EQ(store->Keys("a")->size(), 2U);
  EXPECT_TRUE(store->RevokeKey("a", "k1").ok());
  EXPECT_EQ(store->RevokeKey("a", "k1").code(), StatusCode::kNotFound);
  ASSERT_EQ(store->Keys("a")->size(), 1U);
  EXPECT_EQ(store->Keys("a")->at(0).hash, "h2");
}

// Regression: a corrupt state.db crashed nothing but gave no useful message either.
TEST_F(StateStoreTest, ACorruptFileIsAClearError) {
  std::filesystem::create_directories(dir_);
  ASSERT_TRUE(WriteFileAtomic(dir_ / "state.db", std::string(8192, 'x')).ok());
  auto store = StateStore::Open(dir_ / "state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("is unreadable"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find(".broken"), std::string::npos);
}

// A database made by an earlier Axon (no bundle or start_time columns) is brought up to date.
TEST_F(StateStoreTest, MigratesAnOlderSchema) {
  std::filesystem::create_directories(dir_);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "state.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE apis (name TEXT PRIMARY KEY, version INTEGER NOT NULL, "
                         "spec_json TEXT NOT NULL, content_hash TEXT NOT NULL, updated_at "
                         "INTEGER NOT NULL);"
                         "INSERT INTO apis VALUES ('old', 3, '{}', 'h', 5);"
                         "CREATE TABLE replicas (id TEXT PRIMARY KEY, api TEXT NOT NULL, version "
                         "INTEGER NOT NULL, pid INTEGER NOT NULL, port INTEGER NOT NULL, socket "
                         "TEXT NOT NULL, state_dir TEXT NOT NULL, restarts INTEGER NOT NULL);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Open();
  const auto apis = *store->List();
  ASSERT_EQ(apis.size(), 1U);
  EXPECT_EQ(apis[0].version, 3);
  EXPECT_EQ(apis[0].bundle, "");
  EXPECT_TRUE(store->SaveReplicas({{"r", "old", 3, 1, 2, 3, "", "", 0}}).ok());
}

}  // namespace
}  // namespace axon::operator_
