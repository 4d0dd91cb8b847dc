#include "contract/routes.h"

#include "contract/json_fields.h"

namespace axon::contract {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxCount = 1'000'000'000;

json ReplicaToJson(const ReplicaRoute& r) {
  json out = {{"id", r.id}, {"version", r.version}, {"host", r.host}, {"port", r.port}};
  if (!r.socket.empty()) out["socket"] = r.socket;
  return out;
}

json ApiToJson(const ApiRoute& a) {
  json replicas = json::array();
  for (const auto& r : a.replicas) replicas.push_back(ReplicaToJson(r));
  json split = json::array();
  for (const auto& s : a.split) {
    split.push_back({{"api", s.api}, {"weight", s.weight}, {"shadow", s.shadow}});
  }
  json out = {{"name", a.name},
              {"endpoint", a.endpoint},
              {"version", a.version},
              {"status", a.status},
              {"max_replica_concurrency", a.max_replica_concurrency},
              {"max_queue_length", a.max_queue_length},
              {"timeout_ms", a.timeout_ms},
              {"hold_timeout_ms", a.hold_timeout_ms},
              {"max_held", a.max_held},
              {"start_failing", a.start_failing},
              {"api_key_hashes", a.api_key_hashes},
              {"api_keys_required", a.api_keys_required},
              {"replicas", std::move(replicas)},
              {"split", std::move(split)}};
  if (a.async) out["async"] = true;
  if (a.jobs) out["jobs"] = true;
  if (a.many_models) out["many_models"] = true;
  if (a.request_log_per_million > 0) {
    out["request_log"] = a.request_log;
    out["request_log_per_million"] = a.request_log_per_million;
  }
  return out;
}

// A splitter's targets: names, weights from 0 to 100, the non-shadow ones summing to 100, at
// most one shadow (the gateway's schedule relies on it).
Status SplitFromJson(const json& split, const std::string& where, std::vector<SplitRoute>* out) {
  int64_t sum = 0;
  int64_t shadows = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    FieldReader f(split[i], where + "[" + std::to_string(i) + "]");
    SplitRoute s;
    s.api = f.String("api", "", /*required=*/true);
    s.weight = f.Int("weight", 0, /*required=*/true, 0, 100);
    s.shadow = f.Bool("shadow");
    if (!f.status().ok()) return f.status();
    if (s.shadow) {
      ++shadows;
    } else {
      sum += s.weight;
    }
    out->push_back(std::move(s));
  }
  if (!out->empty() && (sum != 100 || shadows > 1)) {
    return InvalidArgument(where + ": weights must sum to 100 with at most one shadow");
  }
  return OkStatus();
}

StatusOr<ReplicaRoute> ReplicaFromJson(const json& j, const std::string& where) {
  FieldReader f(j, where);
  ReplicaRoute r;
  r.id = f.String("id", "", /*required=*/true);
  r.version = f.Int("version", 0, false, 0, INT64_MAX);
  r.host = f.String("host", "", /*required=*/true);
  r.port = static_cast<uint16_t>(f.Int("port", 0, /*required=*/true, 0, 65535));
  r.socket = f.String("socket");
  if (!f.status().ok()) return f.status();
  return r;
}

StatusOr<ApiRoute> ApiFromJson(const json& j, const std::string& where) {
  FieldReader f(j, where);
  ApiRoute a;
  a.name = f.String("name", "", /*required=*/true);
  a.endpoint = f.String("endpoint", "", /*required=*/true);
  a.version = f.Int("version", 0, false, 0, INT64_MAX);
  a.status = f.String("status", a.status);
  a.max_replica_concurrency =
      f.Int("max_replica_concurrency", a.max_replica_concurrency, false, 1, kMaxCount);
  a.max_queue_length = f.Int("max_queue_length", a.max_queue_length, false, 0, kMaxCount);
  a.timeout_ms = f.Int("timeout_ms", a.timeout_ms, false, 1, kMaxCount);
  a.hold_timeout_ms = f.Int("hold_timeout_ms", a.hold_timeout_ms, false, 0, kMaxCount);
  a.max_held = f.Int("max_held", a.max_held, false, 0, kMaxCount);
  a.start_failing = f.Bool("start_failing", a.start_failing);
  a.api_key_hashes = f.Strings("api_key_hashes");
  a.api_keys_required = f.Bool("api_keys_required", a.api_keys_required);
  a.async = f.Bool("async", a.async);
  a.jobs = f.Bool("jobs", a.jobs);
  a.many_models = f.Bool("many_models", a.many_models);
  a.request_log = f.String("request_log");
  a.request_log_per_million = f.Int("request_log_per_million", 0, false, 0, 1'000'000);
  const json& replicas = f.Array("replicas");
  const json& split = f.Array("split");
  if (!f.status().ok()) return f.status();
  if (Status s = SplitFromJson(split, where + ".split", &a.split); !s.ok()) return s;
  if (a.request_log_per_million > 0 && a.request_log.empty()) {
    return InvalidArgument(where + ".request_log is needed with request_log_per_million");
  }
  if (a.endpoint.empty() || a.endpoint.front() != '/') {
    return InvalidArgument(where + ".endpoint must start with '/'");
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    auto r = ReplicaFromJson(replicas[i], where + ".replicas[" + std::to_string(i) + "]");
    if (!r.ok()) return r.status();
    a.replicas.push_back(std::move(r).value());
  }
  return a;
}

}  // namespace

json ToJson(const RouteTable& table) {
  json apis = json::array();
  for (const auto& a : table.apis) apis.push_back(ApiToJson(a));
  return {{"apis", std::move(apis)}};
}

StatusOr<RouteTable> RouteTableFromJson(const json& j) {
  FieldReader f(j, "routes");
  const json& apis = f.Array("apis");
  if (!f.status().ok()) return f.status();
  RouteTable table;
  for (size_t i = 0; i < apis.size(); ++i) {
    auto api = ApiFromJson(apis[i], "apis[" + std::to_string(i) + "]");
    if (!api.ok()) return api.status();
    table.apis.push_back(std::move(api).value());
  }
  return table;
}

}  // namespace axon::contract
