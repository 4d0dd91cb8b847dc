#include "gateway/route_table.h"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "common/sha256.h"
#include "http/responses.h"

namespace axon::gateway {

int64_t ApiRoute::InFlight() const {
  int64_t total = shared->queue.size();
  for (const auto& r : replicas) total += r->in_flight.load(std::memory_order_relaxed);
  return total;
}

int64_t ApiRoute::QueueLimit() const {
  if (!replicas.empty()) return spec.max_queue_length * static_cast<int64_t>(replicas.size());
  // None ready: wait for one (starting, restarting, scaling up from zero), unless replicas fail
  // before they get ready, when waiting would only delay the 503.
  return spec.start_failing ? 0 : spec.max_held;
}

bool ApiRoute::KeyRejected(std::string_view key) const {
  if (spec.api_key_hashes.empty() && !spec.api_keys_required) return false;
  if (key.empty()) return true;
  const std::string hash = Sha256Hex(key);
  bool found = false;
  for (const auto& h : spec.api_key_hashes) found |= http::SecretsEqual(h, hash);
  return !found;
}

namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ReplicaTarget::Avoid(std::chrono::milliseconds period) {
  avoid_until_ns.store(SteadyNowNs() + std::chrono::nanoseconds(period).count(),
                       std::memory_order_relaxed);
}

bool ReplicaTarget::Avoided(int64_t now_ns) const {
  const int64_t until = avoid_until_ns.load(std::memory_order_relaxed);
  return until != 0 && now_ns < until;
}

ReplicaTarget* ApiRoute::PickReplica(const ReplicaTarget* skip) const {
  // Start the scan at a rotating index so that ties spread over replicas.
  thread_local size_t rotation = 0;
  const size_t n = replicas.size();
  ReplicaTarget* best = nullptr;
  int64_t best_load = spec.max_replica_concurrency;
  int64_t now_ns = 0;  // read once, and only if some replica is avoided
  const size_t start = n == 0 ? 0 : rotation++ % n;
  for (size_t i = 0; i < n; ++i) {
    ReplicaTarget* candidate = replicas[(start + i) % n].get();
    if (candidate == skip) continue;
    const int64_t load = candidate->in_flight.load(std::memory_order_relaxed);
    if (candidate->avoid_until_ns.load(std::memory_order_relaxed) != 0) {
      if (now_ns == 0) now_ns = SteadyNowNs();
      if (candidate->Avoided(now_ns)) continue;
    }
    if (load < best_load) {
      best = candidate;
      best_load = load;
    }
  }
  return best;
}

bool ApiRoute::AnyAvoided() const {
  const int64_t now_ns = SteadyNowNs();
  for (const auto& r : replicas) {
    if (r->Avoided(now_ns)) return true;
  }
  return false;
}

ReplicaTarget* ApiRoute::AcquireReplica(const ReplicaTarget* skip) const {
  // A failed exchange means another request changed that replica's count: pick again.
  for (;;) {
    ReplicaTarget* candidate = PickReplica(skip);
    if (candidate == nullptr) return nullptr;
    int64_t load = candidate->in_flight.load(std::memory_order_relaxed);
    while (load < spec.max_replica_concurrency) {
      if (candidate->in_flight.compare_exchange_weak(load, load + 1, std::memory_order_relaxed)) {
        return candidate;
      }
    }
  }
}

SplitChoice ApiRoute::ChooseSplit() const {
  const TrafficSplit::Choice choice = split->Choose(shared->split_counter);
  SplitChoice out{.primary = split_targets[choice.primary],
                  .primary_name = spec.split[choice.primary].api};
  if (choice.shadow) out.shadow = split_targets[*choice.shadow];
  return out;
}

void ApiRoute::Release(ReplicaTarget* replica) const {
  replica->in_flight.fetch_sub(1, std::memory_order_relaxed);
  shared->queue.WakeOne();
}

namespace {

StatusOr<std::shared_ptr<ReplicaTarget>> MakeTarget(const contract::ReplicaRoute& r,
                                                    const std::string& api, ApiStats& stats) {
  http::beast::error_code ec;
  const auto address = http::asio::ip::make_address(r.host, ec);
  if (ec) {
    return InvalidArgument("api " + api + ": replica " + r.id + " has a bad host '" + r.host + "'");
  }
  auto target = std::make_shared<ReplicaTarget>();
  target->id = r.id;
  target->version = r.version;
  target->responses = stats.ForVersion(r.version);
  target->endpoint = {address, r.port};
  if (!r.socket.empty()) {
    try {  // a name longer than a Unix socket address holds throws
      target->local_endpoint = http::LocalEndpoint(r.socket);
    } catch (const std::exception& e) {
      return InvalidArgument("api " + api + ": replica " + r.id + " has a bad socket name (" +
                             e.what() + ")");
    }
  }
  return target;
}

// The previous table's log when it is the same file at the same rate, else a new one (or null
// when logging is off or the file cannot be opened, which is logged and leaves requests alone).
std::shared_ptr<const RequestLog> RequestLogFor(const contract::ApiRoute& api,
                                                const ApiRoute* old) {
  if (api.request_log_per_million <= 0) return nullptr;
  if (old != nullptr && old->request_log != nullptr &&
      old->request_log->path() == api.request_log &&
      old->request_log->per_million() == api.request_log_per_million) {
    return old->request_log;
  }
  auto log = RequestLog::Open(api.request_log, api.request_log_per_million);
  if (!log.ok()) {
    spdlog::warn("api {}: request logging is off: {}", api.name, log.status().message());
    return nullptr;
  }
  return std::move(log).value();
}

}  // namespace

StatusOr<std::shared_ptr<const RouteTable>> RouteTable::Build(const contract::RouteTable& routes,
                                                              const RouteTable* previous) {
  auto table = std::make_shared<RouteTable>();
  for (const auto& api : routes.apis) {
    auto route = std::make_unique<ApiRoute>();
    route->spec = api;
    route->spec.replicas.clear();
    route->timeout = std::chrono::milliseconds(api.timeout_ms);
    route->hold_timeout = std::chrono::milliseconds(api.hold_timeout_ms);
    const ApiRoute* old = previous != nullptr ? previous->Find(api.endpoint) : nullptr;
    if (old != nullptr && old->name() != api.name) old = nullptr;
    route->shared = old != nullptr ? old->shared : std::make_shared<ApiShared>();
    route->request_log = RequestLogFor(api, old);
    for (const auto& r : api.replicas) {
      auto target = MakeTarget(r, api.name, route->shared->stats);
      if (!target.ok()) return target.status();
      // The same replica process (same id and address) keeps its in-flight counter.
      for (const auto& candidate : old != nullptr ? old->replicas : route->replicas) {
        if (candidate->id == r.id && candidate->endpoint == (*target)->endpoint &&
            candidate->local_endpoint == (*target)->local_endpoint &&
            candidate->version == r.version) {
          *target = candidate;
        }
      }
      route->replicas.push_back(std::move(target).value());
    }
    if (!table->by_endpoint_.emplace(route->spec.endpoint, route.get()).second) {
      return InvalidArgument("two APIs at endpoint " + route->spec.endpoint);
    }
    if (!table->by_name_.emplace(route->name(), route.get()).second) {
      return InvalidArgument("two APIs named " + route->name());
    }
    table->AddVersions(*route);
    table->apis_.push_back(std::move(route));
  }
  table->ResolveSplits();
  return std::shared_ptr<const RouteTable>(std::move(table));
}

void RouteTable::ResolveSplits() {
  std::map<std::string, const ApiRoute*, std::less<>> by_name;
  for (const auto& api : apis_) by_name.emplace(api->name(), api.get());
  for (auto& api : apis_) {
    if (api->spec.split.empty()) continue;
    api->split.emplace(api->spec.split);
    for (const auto& target : api->spec.split) {
      const auto it = by_name.find(target.api);
      // A splitter never sends to a splitter (the operator checks it; this keeps loops out).
      const bool usable = it != by_name.end() && it->second->spec.split.empty();
      api->split_targets.push_back(usable ? it->second : nullptr);
    }
  }
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

contract::GatewayStats RouteTable::Stats(int64_t samples_after_unix_ms) const {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  contract::GatewayStats out;
  for (const auto& api : apis_) {
    const ApiStats& s = api->shared->stats;
    contract::ApiStats& entry = out.apis[api->name()];
    for (const auto& [version, counters] : s.Versions()) {
      for (unsigned code = StatusCounters::kMinCode; code <= StatusCounters::kMaxCode; ++code) {
        const uint64_t n = counters->Get(code);
        if (n == 0) continue;
        if (code >= 200 && code < 300) {
          entry.responses_2xx += n;
        } else if (code >= 400 && code < 500) {
          entry.responses_4xx += n;
        } else if (code >= 500) {
          entry.responses_5xx += n;
        }
      }
    }
    HistogramSnapshot latency = s.Latency();
    entry.latency_us_total = latency.sum;
    entry.latency_buckets = std::move(latency.counts);
    const auto [recent, window_ms] = s.RecentLatency(now_ms);
    entry.recent = {.window_ms = window_ms,
                    .requests = recent.Count(),
                    .p50_ms = recent.Count() == 0 ? -1 : recent.Quantile(0.5) / 1000.0,
                    .p99_ms = recent.Count() == 0 ? -1 : recent.Quantile(0.99) / 1000.0};
    entry.in_flight = api->InFlight();
    entry.queued = api->shared->queue.size();
    for (const auto& r : api->replicas) {
      entry.replica_in_flight[r->id] = r->in_flight.load(std::memory_order_relaxed);
    }
    entry.samples = s.SamplesAfter(samples_after_unix_ms);
  }
  return out;
}

}  // namespace axon::gateway
