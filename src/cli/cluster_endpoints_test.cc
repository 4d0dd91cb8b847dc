#include "cli/cluster_endpoints.h"

#include <gtest/gtest.h>

namespace axon::cli {
namespace {

using Json = nlohmann::json;

Json Service(const std::string& type) {
  return {{"metadata", {{"name", "axon-gateway"}, {"namespace", "axon"}}},
          {"spec",
           {{"type", type},
            {"ports",
             {{{"name", "http"}, {"port", 8888}, {"nodePort", 31888}},
              {{"name", "grpc"}, {"port", 9000}, {"nodePort", 31900}}}}}}};
}

Json Node(bool ready, Json addresses) {
  return {{"status",
           {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}},
            {"addresses", addresses}}}};
}

TEST(ExternalAddress, NodePortOnAReadyNodePreferringItsExternalIp) {
  const std::vector<Json> nodes = {
      Node(false, {{{"type", "InternalIP"}, {"address", "10.0.0.9"}}}),
      Node(true, {{{"type", "Hostname"}, {"address", "n2"}},
                  {{"type", "InternalIP"}, {"address", "10.0.0.2"}},
                  {{"type", "ExternalIP"}, {"address", "203.0.113.2"}}}),
  };
  auto http = ExternalAddress(Service("NodePort"), "http", nodes);
  ASSERT_TRUE(http.ok()) << http.status().message();
  EXPECT_EQ(http->ToString(), "203.0.113.2:31888");
  auto internal =
      ExternalAddress(Service("NodePort"), "grpc",
                      {Node(true, {{{"type", "InternalIP"}, {"address", "10.244.0.1"}}})});
  ASSERT_TRUE(internal.ok());
  EXPECT_EQ(internal->ToString(), "10.244.0.1:31900");
  auto none = ExternalAddress(Service("NodePort"), "http", {nodes[0]});
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
}

TEST(ExternalAddress, LoadBalancerIngress) {
  Json svc = Service("LoadBalancer");
  auto pending = ExternalAddress(svc, "http", {});
  ASSERT_FALSE(pending.ok());
  EXPECT_NE(pending.status().message().find("no address yet"), std::string::npos);
  svc["status"]["loadBalancer"]["ingress"] = {{{"hostname", "lb.example.com"}}};
  auto lb = ExternalAddress(svc, "http", {});
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(lb->ToString(), "lb.example.com:8888");
}

TEST(ExternalAddress, ClusterIpAndMissingPortsAreExplained) {
  auto cip = ExternalAddress(Service("ClusterIP"), "http", {});
  ASSERT_FALSE(cip.ok());
  EXPECT_NE(cip.status().message().find("Service axon/axon-gateway is of type ClusterIP"),
            std::string::npos);
  auto port = ExternalAddress(Service("NodePort"), "admin", {});
  EXPECT_EQ(port.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace axon::cli
