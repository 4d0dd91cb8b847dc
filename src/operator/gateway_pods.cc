#include "operator/gateway_pods.h"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/exposition.h"
#include "kube/manifests.h"
#include "kube/resource.h"

namespace axon::operator_ {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace bhttp = http::bhttp;

bool PodReady(const Json& pod) {
  if (pod.value("metadata", Json::object()).contains("deletionTimestamp")) return false;
  for (const Json& c : pod.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

StatusOr<contract::GatewayStats> FetchStats(const http::Peer& peer, const std::string& token,
                                            int64_t after) {
  auto res = http::Fetch(
      peer,
      http::MakeRequest(bhttp::verb::get, "/_axon/stats?after=" + std::to_string(after), token),
      1s);
  if (!res.ok()) return res.status();
  if (res->result_int() != 200) {
    return Unavailable("GET /_axon/stats: the gateway answered " +
                       std::to_string(res->result_int()));
  }
  return contract::GatewayStatsFromJson(Json::parse(res->body(), nullptr, false));
}

StatusOr<int64_t> FetchHeld(const http::Peer& peer, const std::string& token) {
  auto res = http::Fetch(
      peer, http::MakeRequest(bhttp::verb::get, "/_axon/held?after=-1&wait_ms=0", token), 1s);
  if (!res.ok()) return res.status();
  const auto json = Json::parse(res->body(), nullptr, false);
  if (res->result_int() != 200 || !json.is_object() || !json.contains("held") ||
      !json["held"].is_number_integer()) {
    return Unavailable("GET /_axon/held: no answer from the gateway at " + peer.Describe());
  }
  return json["held"].get<int64_t>();
}

}  // namespace

contract::GatewayStats MergeGatewayStats(const std::vector<contract::GatewayStats>& each,
                                         int64_t sample_ms) {
  if (each.size() == 1) return each.front();
  const int64_t period = std::max<int64_t>(sample_ms, 1);
  contract::GatewayStats out;
  std::map<std::string, uint64_t> recent_requests_of_source;  // the quantiles' source
  std::map<std::string, std::map<int64_t, contract::InFlightSample>> samples;  // by period
  for (const contract::GatewayStats& stats : each) {
    for (const auto& [name, api] : stats.apis) {
      contract::ApiStats& sum = out.apis[name];
      sum.responses_2xx += api.responses_2xx;
      sum.responses_4xx += api.responses_4xx;
      sum.responses_5xx += api.responses_5xx;
      sum.latency_us_total += api.latency_us_total;
      if (sum.latency_buckets.size() < api.latency_buckets.size()) {
        sum.latency_buckets.resize(api.latency_buckets.size(), 0);
      }
      for (size_t i = 0; i < api.latency_buckets.size(); ++i) {
        sum.latency_buckets[i] += api.latency_buckets[i];
      }
      const uint64_t total_recent = sum.recent.requests + api.recent.requests;
      if (!recent_requests_of_source.contains(name) ||
          api.recent.requests > recent_requests_of_source[name]) {
        recent_requests_of_source[name] = api.recent.requests;
        sum.recent.p50_ms = api.recent.p50_ms;
        sum.recent.p99_ms = api.recent.p99_ms;
      }
      sum.recent.requests = total_recent;
      sum.recent.window_ms = std::max(sum.recent.window_ms, api.recent.window_ms);
      sum.in_flight += api.in_flight;
      sum.queued += api.queued;
      for (const auto& [replica, n] : api.replica_in_flight) sum.replica_in_flight[replica] += n;
      for (const contract::InFlightSample& s : api.samples) {
        contract::InFlightSample& bucket = samples[name][s.unix_ms / period];
        bucket.unix_ms = std::max(bucket.unix_ms, s.unix_ms);
        bucket.in_flight += s.in_flight;
      }
    }
  }
  for (auto& [name, by_period] : samples) {
    for (const auto& [period_index, sample] : by_period) out.apis[name].samples.push_back(sample);
  }
  return out;
}

GatewayPods::GatewayPods(GatewayPodsOptions options, kube::Client& client)
    : options_(std::move(options)), client_(client) {}

GatewayPods::~GatewayPods() {
  if (informer_) informer_->Stop();
}

void GatewayPods::Start() {
  informer_ = std::make_unique<kube::Informer>(
      &client_,
      kube::InformerOptions{
          .collection_path = kube::CollectionPath(*kube::FindKind("v1", "Pod"), options_.ns),
          .label_selector = kube::LabelSelector(
              {{kube::kPartOfLabel, "axon"}, {kube::kComponentLabel, "gateway"}})},
      [](kube::ChangeType, const Json&) {});
  informer_->Start();
}

std::map<std::string, http::Peer> GatewayPods::ReadyPods() const {
  std::map<std::string, http::Peer> out;
  if (!informer_) return out;
  for (const auto& [key, pod] : informer_->Cache()) {
    const std::string ip = pod.value("status", Json::object()).value("podIP", "");
    if (ip.empty() || !PodReady(pod)) continue;
    out[pod["metadata"].value("name", key)] = http::Peer{.host = ip, .port = options_.admin_port};
  }
  return out;
}

std::string GatewayPods::address() const { return "the gateway pods of namespace " + options_.ns; }

bool GatewayPods::Sync(const contract::RouteTable& routes) {
  if (!have_routes_ || !(routes == pushed_routes_)) {
    pushed_.clear();
    pushed_routes_ = routes;
    have_routes_ = true;
  }
  const auto ready = ReadyPods();
  // A pod that is not Ready (gone, or its container restarting) gets the table again later.
  std::erase_if(pushed_, [&](const auto& entry) {
    const auto it = ready.find(entry.first);
    return it == ready.end() || it->second.host != entry.second;
  });
  bool all = !ready.empty();
  const std::string body = contract::ToJson(routes).dump();
  for (const auto& [name, peer] : ready) {
    if (pushed_.contains(name)) continue;
    auto res = http::Fetch(
        peer, http::MakeRequest(bhttp::verb::put, "/_axon/routes", options_.token, body), 2s);
    if (!res.ok() || res->result_int() != 200) {
      spdlog::warn("cannot push routes to gateway pod {} ({}): {}", name, peer.Describe(),
                   res.ok() ? "HTTP " + std::to_string(res->result_int()) + ": " + res->body()
                            : res.status().message());
      all = false;
      continue;
    }
    pushed_[name] = peer.host;
  }
  return all;
}

contract::GatewayStats GatewayPods::Stats(int64_t samples_after_unix_ms) const {
  std::vector<contract::GatewayStats> each;
  for (const auto& [name, peer] : ReadyPods()) {
    auto stats = FetchStats(peer, options_.token, samples_after_unix_ms);
    if (stats.ok()) each.push_back(std::move(stats).value());
  }
  if (each.empty()) return {};
  return MergeGatewayStats(each, options_.sample_ms);
}

std::string GatewayPods::Metrics() const {
  std::vector<std::string> texts;
  for (const auto& [name, peer] : ReadyPods()) {
    auto res = http::Fetch(
        peer, http::MakeRequest(bhttp::verb::get, "/_axon/metrics", options_.token), 1s);
    if (res.ok() && res->result_int() == 200) {
      texts.push_back(WithLabel(res->body(), "gateway", name));
    }
  }
  return texts.empty() ? std::string() : MergeExpositions(texts);
}

StatusOr<int64_t> GatewayPods::WaitForHeld(int64_t after, std::chrono::milliseconds wait) const {
  // Polls the sum over the pods (each answers at once) until it passes `after` or `wait` ends.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    const auto pods = ReadyPods();
    if (pods.empty()) return Unavailable("no gateway pod is Ready in namespace " + options_.ns);
    int64_t held = 0;
    for (const auto& [name, peer] : pods) {
      auto n = FetchHeld(peer, options_.token);
      if (!n.ok()) return n.status();
      held += *n;
    }
    if (held > after || std::chrono::steady_clock::now() >= deadline) return held;
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace axon::operator_
