#include "kube/resource.h"

#include <gtest/gtest.h>

namespace axon::kube {
namespace {

TEST(Resource, PathsOfCoreGroupedAndClusterScopedKinds) {
  EXPECT_EQ(CollectionPath(*FindKind("v1", "Pod"), "axon"), "/api/v1/namespaces/axon/pods");
  EXPECT_EQ(CollectionPath(*FindKind("v1", "Pod"), ""), "/api/v1/pods");
  EXPECT_EQ(ObjectPath(*FindKind("apps/v1", "Deployment"), "axon", "iris-v1"),
            "/apis/apps/v1/namespaces/axon/deployments/iris-v1");
  EXPECT_EQ(ObjectPath(*FindKind("rbac.authorization.k8s.io/v1", "ClusterRole"), "axon", "x"),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/x");
  EXPECT_EQ(CollectionPath(*FindKind("axon.dev/v1alpha1", "AxonAPI"), "axon"),
            "/apis/axon.dev/v1alpha1/namespaces/axon/axonapis");
  EXPECT_FALSE(FindKind("v1", "Gadget").ok());
}

TEST(Resource, PathOfAnObject) {
  nlohmann::json svc = {{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", {{"name", "gw"}, {"namespace", "axon"}}}};
  EXPECT_EQ(*PathOf(svc, "default"), "/api/v1/namespaces/axon/services/gw");
  svc["metadata"].erase("namespace");
  EXPECT_EQ(*PathOf(svc, "default"), "/api/v1/namespaces/default/services/gw");
  EXPECT_EQ(*CollectionPathOf(svc, "x"), "/api/v1/namespaces/x/services");
  svc["metadata"].erase("name");
  EXPECT_FALSE(PathOf(svc, "default").ok());
  EXPECT_FALSE(PathOf(nlohmann::json::array(), "default").ok());
}

TEST(Resource, QueriesAndSelectors) {
  EXPECT_EQ(QueryString({{"labelSelector", "a=b,c"}, {"continue", ""}, {"limit", "5"}}),
            "?labelSelector=a%3Db%2Cc&limit=5");
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(LabelSelector({{"axon.dev/api", "iris"}, {"app.kubernetes.io/part-of", "axon"}}),
            "app.kubernetes.io/part-of=axon,axon.dev/api=iris");
}

}  // namespace
}  // namespace axon::kube
