// Gateways for an operator inside the cluster: the gateway pods of its namespace (labels
// app.kubernetes.io/part-of=axon, app.kubernetes.io/component=gateway), found by an Informer,
// each fed over its admin listener at POD_IP:admin_port with the platform token. Every Ready
// pod gets the same route table; a pod that becomes Ready (a new one, or one whose container
// restarted) gets it on the next Sync(). Statistics are the sum over the Ready pods
// (MergeGatewayStats); a gateway never asks the API server.
//
// Threading: as Gateways. Sync() blocks up to 2 s per pod it pushes to; Stats() and Metrics()
// up to 1 s per Ready pod; WaitForHeld() up to its wait and 1 s more. The Client must outlive
// this object; the destructor stops the Informer's thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/client.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "operator/gateways.h"

namespace axon::operator_ {

struct GatewayPodsOptions {
  std::string ns;
  uint16_t admin_port = 9001;
  std::string token;
  int64_t sample_ms = 1000;  // the gateways' sampling period: samples this close are summed
};

// One statistics answer from several gateways: counters and in-flight numbers summed, latency
// buckets added, samples of the same period (unix_ms / sample_ms) summed, and the last
// minute's quantiles those of the gateway that answered most requests in it.
contract::GatewayStats MergeGatewayStats(const std::vector<contract::GatewayStats>& each,
                                         int64_t sample_ms);

class GatewayPods final : public Gateways {
 public:
  GatewayPods(GatewayPodsOptions options, kube::Client& client);
  ~GatewayPods() override;
  GatewayPods(const GatewayPods&) = delete;
  GatewayPods& operator=(const GatewayPods&) = delete;

  // Starts watching the gateway pods. Call once, before the first Sync().
  void Start();

  bool Sync(const contract::RouteTable& routes) override;
  contract::GatewayStats Stats(int64_t samples_after_unix_ms) const override;
  // The metrics of every Ready pod in one exposition, each pod's series labelled
  // gateway="POD" (WithLabel in common/exposition.h): summing them is the scraper's query.
  std::string Metrics() const override;
  StatusOr<int64_t> WaitForHeld(int64_t after, std::chrono::milliseconds wait) const override;
  void Stop() override {}
  std::string address() const override;

 private:
  // Ready gateway pods with an address: pod name -> admin peer.
  std::map<std::string, http::Peer> ReadyPods() const;

  const GatewayPodsOptions options_;
  kube::Client& client_;
  std::unique_ptr<kube::Informer> informer_;
  // Reconcile thread only: the pods (name -> address) that serve pushed_routes_.
  std::map<std::string, std::string> pushed_;
  contract::RouteTable pushed_routes_;
  bool have_routes_ = false;
};

}  // namespace axon::operator_
