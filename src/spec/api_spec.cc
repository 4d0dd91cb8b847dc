#include "spec/api_spec.h"

namespace axon::spec {
namespace {

using nlohmann::json;

// Floor or ceiling of a / b for b > 0.
int64_t DivideRounding(int64_t a, int64_t b, bool round_up) {
  int64_t q = a / b;
  int64_t r = a % b;
  if (r != 0 && ((r > 0) == round_up)) q += round_up ? 1 : -1;
  return q;
}

json ToJson(const CountOrPercent& c) { return {{"value", c.value}, {"percent", c.percent}}; }

// j[key] read into `out` when present; absent keys keep their default (older states stay
// readable), present keys of the wrong type throw.
template <typename T>
void Read(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it != j.end()) it->get_to(*out);
}

void Read(const json& j, const char* key, Millis* out) {
  auto it = j.find(key);
  if (it != j.end()) *out = Millis(it->get<int64_t>());
}

void Read(const json& j, const char* key, CountOrPercent* out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  out->value = it->at("value").get<int64_t>();
  out->percent = it->at("percent").get<bool>();
}

// The object at j[key], or an empty object when absent.
const json& Section(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() ? *it : kEmpty;
}

json AutoscalingToJson(const AutoscalingSpec& a) {
  return {
      {"min_replicas", a.min_replicas},
      {"max_replicas", a.max_replicas},
      {"init_replicas", a.init_replicas},
      {"target_replica_concurrency", a.target_replica_concurrency},
      {"max_replica_concurrency", a.max_replica_concurrency},
      {"max_queue_length", a.max_queue_length},
      {"window_ms", a.window.count()},
      {"downscale_stabilization_period_ms", a.downscale_stabilization_period.count()},
      {"upscale_stabilization_period_ms", a.upscale_stabilization_period.count()},
      {"max_downscale_factor", a.max_downscale_factor},
      {"max_upscale_factor", a.max_upscale_factor},
      {"downscale_tolerance", a.downscale_tolerance},
      {"upscale_tolerance", a.upscale_tolerance},
  };
}

AutoscalingSpec AutoscalingFromJson(const json& j) {
  AutoscalingSpec a;
  Read(j, "min_replicas", &a.min_replicas);
  Read(j, "max_replicas", &a.max_replicas);
  Read(j, "init_replicas", &a.init_replicas);
  Read(j, "target_replica_concurrency", &a.target_replica_concurrency);
  Read(j, "max_replica_concurrency", &a.max_replica_concurrency);
  Read(j, "max_queue_length", &a.max_queue_length);
  Read(j, "window_ms", &a.window);
  Read(j, "downscale_stabilization_period_ms", &a.downscale_stabilization_period);
  Read(j, "upscale_stabilization_period_ms", &a.upscale_stabilization_period);
  Read(j, "max_downscale_factor", &a.max_downscale_factor);
  Read(j, "max_upscale_factor", &a.max_upscale_factor);
  Read(j, "downscale_tolerance", &a.downscale_tolerance);
  Read(j, "upscale_tolerance", &a.upscale_tolerance);
  return a;
}

json TensorsToJson(const std::vector<TensorDecl>& tensors) {
  json out = json::array();
  for (const auto& t : tensors) {
    out.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  }
  return out;
}

std::vector<TensorDecl> TensorsFromJson(const json& j) {
  std::vector<TensorDecl> out;
  if (!j.is_array()) return out;
  for (const auto& t : j) {
    TensorDecl decl;
    Read(t, "name", &decl.name);
    Read(t, "dtype", &decl.dtype);
    Read(t, "shape", &decl.shape);
    out.push_back(std::move(decl));
  }
  return out;
}

json ModelToJson(const ModelSpec& m) {
  return {{"name", m.name},
          {"type", m.type},
          {"model_path", m.model_path},
          {"model_version", m.model_version},
          {"inputs", TensorsToJson(m.inputs)},
          {"outputs", TensorsToJson(m.outputs)}};
}

ModelSpec ModelFromJson(const json& j) {
  ModelSpec m;
  Read(j, "name", &m.name);
  Read(j, "type", &m.type);
  Read(j, "model_path", &m.model_path);
  Read(j, "model_version", &m.model_version);
  if (auto it = j.find("inputs"); it != j.end()) m.inputs = TensorsFromJson(*it);
  if (auto it = j.find("outputs"); it != j.end()) m.outputs = TensorsFromJson(*it);
  return m;
}

json MultiModelToJson(const MultiModelSpec& m) {
  json paths = json::array();
  for (const auto& p : m.paths) paths.push_back({{"name", p.name}, {"path", p.path}});
  return {{"paths", std::move(paths)},
          {"dir", m.dir},
          {"cache_size", m.cache_size},
          {"disk_cache_size", m.disk_cache_size}};
}

MultiModelSpec MultiModelFromJson(const json& j) {
  MultiModelSpec m;
  if (auto it = j.find("paths"); it != j.end() && it->is_array()) {
    for (const auto& p : *it) {
      ModelPathSpec path;
      Read(p, "name", &path.name);
      Read(p, "path", &path.path);
      m.paths.push_back(std::move(path));
    }
  }
  Read(j, "dir", &m.dir);
  Read(j, "cache_size", &m.cache_size);
  Read(j, "disk_cache_size", &m.disk_cache_size);
  return m;
}

// `gpu` is written only when set, so that the JSON (and content hashes) of existing specs stay
// the same.
json ComputeToJson(const ComputeSpec& c) {
  json j = {{"cpu_millis", c.cpu_millis}, {"mem_bytes", c.mem_bytes}};
  if (c.gpu != 0) j["gpu"] = c.gpu;
  return j;
}

// A TrafficSplitter's `apis`, written only for splitters (the JSON of other kinds stays the same).
json SplitTargetsToJson(const std::vector<SplitTarget>& targets) {
  json out = json::array();
  for (const auto& t : targets) {
    out.push_back(
        {{"name", t.name}, {"weight", t.weight}, {"shadow", t.shadow}, {"line", t.source_line}});
  }
  return out;
}

std::vector<SplitTarget> SplitTargetsFromJson(const json& j) {
  std::vector<SplitTarget> out;
  if (!j.is_array()) return out;
  for (const auto& t : j) {
    SplitTarget target;
    Read(t, "name", &target.name);
    Read(t, "weight", &target.weight);
    Read(t, "shadow", &target.shadow);
    Read(t, "line", &target.source_line);
    out.push_back(std::move(target));
  }
  return out;
}

}  // namespace

bool IsNativeType(std::string_view predictor_type) {
  return predictor_type == "torchscript" || predictor_type == "onnx" || predictor_type == "xgboost";
}

bool IsModelUrl(std::string_view model_path) {
  return model_path.starts_with("http://") || model_path.starts_with("https://");
}

int64_t CountOrPercent::Resolve(int64_t replicas, bool round_up) const {
  if (!percent) return value;
  return DivideRounding(replicas * value, 100, round_up);
}

nlohmann::json ToJson(const ApiSpec& spec) {
  const PredictorSpec& p = spec.predictor;
  json out = {
      {"name", spec.name},
      {"kind", spec.kind},
      {"predictor",
       {{"type", p.type},
        {"path", p.path},
        {"config", p.config},
        {"env", p.env},
        {"model", ModelToJson(p.model)},
        {"models",
         [&] {
           json models = json::array();
           for (const auto& m : p.models) models.push_back(ModelToJson(m));
           return models;
         }()},
        {"dependencies", {{"pip", p.dependencies.pip}, {"shell", p.dependencies.shell}}},
        {"command",
         {{"argv", p.command.argv},
          {"port", p.command.port},
          {"readiness_path", p.command.readiness_path}}},
        {"threads_per_process", p.threads_per_process},
        {"intra_op_threads", p.intra_op_threads},
        {"server_side_batching",
         {{"max_batch_size", p.server_side_batching.max_batch_size},
          {"batch_interval_ms", p.server_side_batching.batch_interval.count()}}}}},
      {"compute", ComputeToJson(spec.compute)},
      {"autoscaling", AutoscalingToJson(spec.autoscaling)},
      {"update_strategy",
       {{"max_surge", ToJson(spec.update_strategy.max_surge)},
        {"max_unavailable", ToJson(spec.update_strategy.max_unavailable)}}},
      {"networking",
       {{"endpoint", spec.networking.endpoint},
        {"timeout_ms", spec.networking.timeout.count()},
        {"api_keys", spec.networking.api_keys}}},
      {"source_file", spec.source_file},
      {"source_line", spec.source_line},
  };
  if (!spec.apis.empty()) out["apis"] = SplitTargetsToJson(spec.apis);
  // Only when set, so that the JSON (and content hash) of an API without it stays the same.
  if (!p.multi_model.empty()) out["predictor"]["multi_model"] = MultiModelToJson(p.multi_model);
  if (!p.command.image.empty()) out["predictor"]["command"]["image"] = p.command.image;
  // Only when set, so that the content hash of an API without them is what it was before.
  if (!spec.node_groups.empty()) out["node_groups"] = spec.node_groups;
  // Only when set, so that the content hash of an API without it is what it was before.
  if (spec.logging != LoggingSpec{}) {
    out["logging"] = {{"requests", spec.logging.requests}, {"sample", spec.logging.sample}};
  }
  if (spec.IsAsync() || spec.RunsJobs()) {
    out["queue"] = {{"max_attempts", spec.queue.max_attempts},
                    {"result_retention_ms", spec.queue.result_retention.count()}};
  }
  return out;
}

ApiSpec ApiSpecFromJson(const nlohmann::json& j) {
  ApiSpec spec;
  spec.name = j.at("name").get<std::string>();
  Read(j, "kind", &spec.kind);
  const json& p = Section(j, "predictor");
  Read(p, "type", &spec.predictor.type);
  Read(p, "path", &spec.predictor.path);
  Read(p, "config", &spec.predictor.config);
  Read(p, "env", &spec.predictor.env);
  Read(p, "threads_per_process", &spec.predictor.threads_per_process);
  Read(p, "intra_op_threads", &spec.predictor.intra_op_threads);
  if (auto it = p.find("model"); it != p.end()) spec.predictor.model = ModelFromJson(*it);
  if (auto it = p.find("models"); it != p.end() && it->is_array()) {
    for (const auto& m : *it) spec.predictor.models.push_back(ModelFromJson(m));
  }
  if (auto it = p.find("multi_model"); it != p.end() && it->is_object()) {
    spec.predictor.multi_model = MultiModelFromJson(*it);
  }
  const json& d = Section(p, "dependencies");
  Read(d, "pip", &spec.predictor.dependencies.pip);
  Read(d, "shell", &spec.predictor.dependencies.shell);
  const json& command = Section(p, "command");
  Read(command, "argv", &spec.predictor.command.argv);
  Read(command, "port", &spec.predictor.command.port);
  Read(command, "readiness_path", &spec.predictor.command.readiness_path);
  Read(command, "image", &spec.predictor.command.image);
  const json& b = Section(p, "server_side_batching");
  Read(b, "max_batch_size", &spec.predictor.server_side_batching.max_batch_size);
  Read(b, "batch_interval_ms", &spec.predictor.server_side_batching.batch_interval);
  const json& c = Section(j, "compute");
  Read(c, "cpu_millis", &spec.compute.cpu_millis);
  Read(c, "mem_bytes", &spec.compute.mem_bytes);
  Read(c, "gpu", &spec.compute.gpu);
  spec.autoscaling = AutoscalingFromJson(Section(j, "autoscaling"));
  const json& u = Section(j, "update_strategy");
  Read(u, "max_surge", &spec.update_strategy.max_surge);
  Read(u, "max_unavailable", &spec.update_strategy.max_unavailable);
  const json& n = Section(j, "networking");
  Read(n, "endpoint", &spec.networking.endpoint);
  Read(n, "timeout_ms", &spec.networking.timeout);
  Read(n, "api_keys", &spec.networking.api_keys);
  const json& l = Section(j, "logging");
  Read(l, "requests", &spec.logging.requests);
  Read(l, "sample", &spec.logging.sample);
  Read(j, "source_file", &spec.source_file);
  Read(j, "source_line", &spec.source_line);
  Read(j, "node_groups", &spec.node_groups);
  if (auto it = j.find("apis"); it != j.end()) spec.apis = SplitTargetsFromJson(*it);
  const json& q = Section(j, "queue");
  Read(q, "max_attempts", &spec.queue.max_attempts);
  Read(q, "result_retention_ms", &spec.queue.result_retention);
  return spec;
}

}  // namespace axon::spec
