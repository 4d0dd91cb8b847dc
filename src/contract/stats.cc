#include "contract/stats.h"

#include "contract/json_fields.h"

namespace axon::contract {
namespace {

using json = nlohmann::json;

json ApiToJson(const ApiStats& s) {
  json samples = json::array();
  for (const auto& sample : s.samples) samples.push_back({sample.unix_ms, sample.in_flight});
  return {{"2xx", s.responses_2xx},
          {"4xx", s.responses_4xx},
          {"5xx", s.responses_5xx},
          {"latency_us_total", s.latency_us_total},
          {"latency_buckets", s.latency_buckets},
          {"recent",
           {{"window_ms", s.recent.window_ms},
            {"requests", s.recent.requests},
            {"p50_ms", s.recent.p50_ms},
            {"p99_ms", s.recent.p99_ms}}},
          {"in_flight", s.in_flight},
          {"queued", s.queued},
          {"replica_in_flight", s.replica_in_flight},
          {"in_flight_samples", std::move(samples)}};
}

StatusOr<ApiStats> ApiFromJson(const json& j, const std::string& where) {
  FieldReader f(j, where);
  ApiStats s;
  s.responses_2xx = static_cast<uint64_t>(f.Int("2xx", 0, false, 0));
  s.responses_4xx = static_cast<uint64_t>(f.Int("4xx", 0, false, 0));
  s.responses_5xx = static_cast<uint64_t>(f.Int("5xx", 0, false, 0));
  s.latency_us_total = static_cast<uint64_t>(f.Int("latency_us_total", 0, false, 0));
  s.in_flight = f.Int("in_flight", 0, false, 0);
  s.queued = f.Int("queued", 0, false, 0);
  const json& samples = f.Array("in_flight_samples");
  if (!f.status().ok()) return f.status();
  if (auto it = j.find("recent"); it != j.end()) {
    FieldReader r(*it, where + ".recent");
    s.recent.window_ms = r.Int("window_ms", 0, false, 0);
    s.recent.requests = static_cast<uint64_t>(r.Int("requests", 0, false, 0));
    if (!r.status().ok()) return r.status();
    const std::pair<const char*, double*> quantiles[] = {{"p50_ms", &s.recent.p50_ms},
                                                         {"p99_ms", &s.recent.p99_ms}};
    for (const auto& [key, value] : quantiles) {
      auto q = it->find(key);
      if (q == it->end()) continue;
      if (!q->is_number()) return InvalidArgument(where + ".recent." + key + " must be a number");
      *value = q->get<double>();
    }
  }
  if (auto it = j.find("latency_buckets"); it != j.end()) {
    if (!it->is_array()) return InvalidArgument(where + ".latency_buckets must be an array");
    for (const auto& n : *it) {
      if (!n.is_number_unsigned()) {
        return InvalidArgument(where + ".latency_buckets must hold counts (integers >= 0)");
      }
      s.latency_buckets.push_back(n.get<uint64_t>());
    }
  }
  if (auto it = j.find("replica_in_flight"); it != j.end()) {
    if (!it->is_object()) return InvalidArgument(where + ".replica_in_flight must be an object");
    for (const auto& [id, n] : it->items()) {
      if (!n.is_number_integer()) {
        return InvalidArgument(where + ".replica_in_flight." + id + " must be an integer");
      }
      s.replica_in_flight[id] = n.get<int64_t>();
    }
  }
  for (const auto& sample : samples) {
    if (!sample.is_array() || sample.size() != 2 || !sample[0].is_number_integer() ||
        !sample[1].is_number_integer()) {
      return InvalidArgument(where + ".in_flight_samples must be [[unix_ms, in_flight], ...]");
    }
    s.samples.push_back({sample[0].get<int64_t>(), sample[1].get<int64_t>()});
  }
  return s;
}

}  // namespace

json ToJson(const GatewayStats& stats) {
  json apis = json::object();
  for (const auto& [name, s] : stats.apis) apis[name] = ApiToJson(s);
  return {{"apis", std::move(apis)}};
}

StatusOr<GatewayStats> GatewayStatsFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("stats must be a JSON object");
  auto it = j.find("apis");
  if (it == j.end() || !it->is_object()) return InvalidArgument("stats.apis must be an object");
  GatewayStats stats;
  for (const auto& [name, api] : it->items()) {
    auto s = ApiFromJson(api, "stats.apis." + name);
    if (!s.ok()) return s.status();
    stats.apis[name] = std::move(s).value();
  }
  return stats;
}

}  // namespace axon::contract
