// The bundle contract end to end over a real HTTP server on 127.0.0.1: the operator's
// ServeBundle() and a replica's FetchBundle().
#include "operator/bundle_server.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/files.h"
#include "contract/bundles.h"
#include "http/responses.h"
#include "http/server.h"
#include "replica/bundle_fetch.h"

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;

class BundleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("axon-bundle-server-" + RandomHex(6));
    fs::create_directories(dir_ / "src" / "sub dir");
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "predictor.py", "print(1)\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src" / "sub dir" / "w+1.bin", std::string(3000, 'x')).ok());
    auto hash = store_.Add(dir_ / "src");
    ASSERT_TRUE(hash.ok()) << hash.status().message();
    hash_ = *hash;
    auto server = http::HttpServer::Create(
        {.host = "127.0.0.1", .port = 0},
        [this](http::Request& req) -> http::asio::awaitable<http::Response> {
          const std::string path(http::TargetPath(req.target()));
          co_return ServeBundle(store_, "platform-token", req,
                                std::string_view(path).substr(std::strlen(contract::kBundlesPath)));
        });
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    server_->Start();
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::milliseconds(0));
    server_->Wait();
    fs::remove_all(dir_);
  }
  replica::BundleFetch Fetch(const std::string& key) const {
    return {.url = "http://127.0.0.1:" + std::to_string(server_->port()),
            .hash = hash_,
            .key = key,
            .into = dir_ / "pod",
            .attempts = 1,
            .timeout = std::chrono::milliseconds(5000)};
  }

  fs::path dir_;
  BundleStore store_{fs::temp_directory_path() / ("axon-bundle-store-" + RandomHex(6))};
  std::string hash_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(BundleServerTest, ReplicaFetchesTheBundleAndChecksItsHash) {
  const Status s = replica::FetchBundle(Fetch(contract::BundleKey("platform-token", hash_)));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(dir_ / "pod" / "predictor.py").value(), "print(1)\n");
  EXPECT_EQ(ReadFile(dir_ / "pod" / "sub dir" / "w+1.bin").value(), std::string(3000, 'x'));
  EXPECT_EQ(FolderHash(dir_ / "pod").value(), hash_);
  fs::remove_all(store_.Path(hash_).parent_path());
}

TEST_F(BundleServerTest, TheTokenItselfOrAnotherBundlesKeyDoesNotOpenIt) {
  for (const std::string& key :
       {std::string("platform-token"), contract::BundleKey("platform-token", std::string(32, 'a')),
        contract::BundleKey("other-token", hash_)}) {
    const Status s = replica::FetchBundle(Fetch(key));
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("HTTP 401"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(fs::exists(dir_ / "pod" / "predictor.py"));
  fs::remove_all(store_.Path(hash_).parent_path());
}

TEST_F(BundleServerTest, ContentThatDoesNotMatchItsNameIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(store_.Path(hash_) / "predictor.py", "tampered\n").ok());
  const Status s = replica::FetchBundle(Fetch(contract::BundleKey("platform-token", hash_)));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hashes to"), std::string::npos) << s.message();
  fs::remove_all(store_.Path(hash_).parent_path());
}

}  // namespace
}  // namespace axon::operator_
