#include "gateway/route_table.h"

namespace axon::gateway {

void ApiStats::Record(unsigned status, std::chrono::microseconds latency) {
  if (status >= 200 && status < 300) {
    responses_2xx.fetch_add(1, std::memory_order_relaxed);
  } else if (status >= 400 && status < 500) {
    responses_4xx.fetch_add(1, std::memory_order_relaxed);
  } else if (status >= 500) {
    responses_5xx.fetch_add(1, std::memory_order_relaxed);
  }
  latency_us_total.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

nlohmann::json ApiStats::ToJson() const {
  return {{"2xx", responses_2xx.load()},
          {"4xx", responses_4xx.load()},
          {"5xx", responses_5xx.load()},
          {"latency_us_total", latency_us_total.load()}};
}

void ApiStats::AddSample(int64_t unix_ms, int64_t in_flight) {
  std::lock_guard lock(samples_mu_);
  samples_.emplace_back(unix_ms, in_flight);
  if (samples_.size() > kMaxSamples) samples_.pop_front();
}

nlohmann::json ApiStats::SamplesAfter(int64_t after_unix_ms) const {
  std::lock_guard lock(samples_mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [at, value] : samples_) {
    if (at > after_unix_ms) out.push_back({at, value});
  }
  return out;
}

int64_t ApiRoute::InFlight() const {
  int64_t total = stats->held.load(std::memory_order_relaxed);
  for (const auto& r : replicas) total += r->in_flight.load(std::memory_order_relaxed);
  return total;
}

ReplicaTarget* ApiRoute::PickReplica(const ReplicaTarget* skip) const {
  // Start the scan at a rotating index so that ties spread over replicas.
  thread_local size_t rotation = 0;
  const size_t n = replicas.size();
  ReplicaTarget* best = nullptr;
  int64_t best_load = max_replica_concurrency;
  const size_t start = n == 0 ? 0 : rotation++ % n;
  for (size_t i = 0; i < n; ++i) {
    ReplicaTarget* candidate = replicas[(start + i) % n].get();
    if (candidate == skip) continue;
    const int64_t load = candidate->in_flight.load(std::memory_order_relaxed);
    if (load < best_load) {
      best = candidate;
      best_load = load;
    }
  }
  return best;
}

ReplicaTarget* ApiRoute::AcquireReplica(const ReplicaTarget* skip) const {
  // A failed exchange means another request changed that replica's count: pick again.
  for (;;) {
    ReplicaTarget* candidate = PickReplica(skip);
    if (candidate == nullptr) return nullptr;
    int64_t load = candidate->in_flight.load(std::memory_order_relaxed);
    while (load < max_replica_concurrency) {
      if (candidate->in_flight.compare_exchange_weak(load, load + 1, std::memory_order_relaxed)) {
        return candidate;
      }
    }
  }
}

StatusOr<std::shared_ptr<const RouteTable>> RouteTable::FromJson(const nlohmann::json& json,
                                                                 const RouteTable* previous) {
  auto table = std::make_shared<RouteTable>();
  try {
    for (const auto& api : json.at("apis")) {
      auto route = std::make_unique<ApiRoute>();
      route->name = api.at("name").get<std::string>();
      route->endpoint = api.at("endpoint").get<std::string>();
      route->version = api.value("version", int64_t{0});
      route->max_replica_concurrency = api.value("max_replica_concurrency", int64_t{1024});
      route->timeout = std::chrono::milliseconds(api.value("timeout_ms", int64_t{60'000}));
      route->status = api.value("status", std::string("updating"));
      route->scale_to_zero = api.value("scale_to_zero", false);
      route->hold_timeout =
          std::chrono::milliseconds(api.value("hold_timeout_ms", int64_t{60'000}));
      route->max_held = api.value("max_held", int64_t{1000});
      const ApiRoute* old = previous != nullptr ? previous->Find(route->endpoint) : nullptr;
      if (old != nullptr && old->name != route->name) old = nullptr;
      route->stats = old != nullptr ? old->stats : std::make_shared<ApiStats>();
      for (const auto& r : api.at("replicas")) {
        auto target = std::make_shared<ReplicaTarget>();
        target->id = r.at("id").get<std::string>();
        target->version = r.value("version", int64_t{0});
        target->endpoint = {http::asio::ip::make_address(r.at("host").get<std::string>()),
                            r.at("port").get<uint16_t>()};
        if (r.contains("socket")) {
          target->local_endpoint = http::LocalEndpoint(r["socket"].get<std::string>());
        }
        // The same replica process (same id and address) keeps its in-flight counter.
        for (const auto& candidate : old != nullptr ? old->replicas : route->replicas) {
          if (candidate->id == target->id && candidate->endpoint == target->endpoint &&
              candidate->local_endpoint == target->local_endpoint &&
              candidate->version == target->version) {
            target = candidate;
          }
        }
        route->replicas.push_back(std::move(target));
      }
      if (!table->by_endpoint_.emplace(route->endpoint, route.get()).second) {
        return InvalidArgument("two APIs at endpoint " + route->endpoint);
      }
      if (!table->by_name_.emplace(route->name, route.get()).second) {
        return InvalidArgument("two APIs named " + route->name);
      }
      table->AddVersions(*route);
      table->apis_.push_back(std::move(route));
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("bad route table: ") + e.what());
  }
  return std::shared_ptr<const RouteTable>(std::move(table));
}

const ApiRoute* RouteTable::Find(std::string_view path) const {
  const auto it = by_endpoint_.find(path);
  return it == by_endpoint_.end() ? nullptr : it->second;
}

const ApiRoute* RouteTable::FindByName(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const ApiRoute* RouteTable::FindVersion(const ApiRoute& api, int64_t version) const {
  const auto it = versions_.find({&api, version});
  return it == versions_.end() ? nullptr : it->second.get();
}

void RouteTable::AddVersions(const ApiRoute& api) {
  for (const auto& replica : api.replicas) {
    auto& route = versions_[{&api, replica->version}];
    if (route == nullptr) {
      route = std::make_unique<ApiRoute>(api);  // same limits, same shared counters
      route->replicas.clear();
    }
    route->replicas.push_back(replica);
  }
}

std::vector<http::local_stream::endpoint> RouteTable::LocalEndpoints() const {
  std::vector<http::local_stream::endpoint> out;
  for (const auto& api : apis_) {
    for (const auto& r : api->replicas) {
      if (r->local_endpoint) out.push_back(*r->local_endpoint);
    }
  }
  return out;
}

std::vector<http::tcp::endpoint> RouteTable::Endpoints() const {
  std::vector<http::tcp::endpoint> out;
  for (const auto& api : apis_) {
    for (const auto& r : api->replicas) out.push_back(r->endpoint);
  }
  return out;
}

}  // namespace axon::gateway
