// ParseCompute, ParseNodeGroups, ParseAutoscaling and ParseUpdateStrategy (declared in
// api_parser.h).
#include <algorithm>
#include <cctype>

#include "spec/api_parser.h"
#include "spec/quantity.h"

namespace axon::spec {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr char kDurationExpected[] = "a duration like \"30s\" or \"5m\"";

void ReadDurationField(const FieldMap& fields, std::string_view key, bool positive,
                       ErrorList& errors, Millis* out) {
  const Field* field = fields.Get(key);
  if (field == nullptr) return;
  auto parse = positive ? &ParsePositiveDuration : &ParseDuration;
  if (std::optional<Millis> d = ReadParsed(*field, kDurationExpected, parse, errors)) *out = *d;
}

void ReadNumberField(const FieldMap& fields, std::string_view key, const NumberRange& range,
                     ErrorList& errors, double* out) {
  const Field* field = fields.Get(key);
  if (field == nullptr) return;
  if (std::optional<double> v = ReadNumber(*field, range, errors)) *out = *v;
}

// A Kubernetes label value that is not empty: the value of the nodes' axon.dev/node-group.
bool IsValidNodeGroup(std::string_view name) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (name.empty() || name.size() > 63 || !alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// Reads an integer field; returns whether it was given and valid.
bool ReadIntField(const FieldMap& fields, std::string_view key, int64_t min, int64_t max,
                  ErrorList& errors, int64_t* out) {
  const Field* field = fields.Get(key);
  if (field == nullptr) return false;
  std::optional<int64_t> v = ReadInt(*field, min, max, errors);
  if (v) *out = *v;
  return v.has_value();
}

// "autoscaling.max_replicas (5)" or "autoscaling.max_replicas (100, the default)".
std::string Named(std::string_view name, int64_t value, bool given) {
  return "autoscaling." + std::string(name) + " (" + std::to_string(value) +
         (given ? ")" : ", the default)");
}

// Checks min <= init <= max and target <= max_replica_concurrency; fills in the defaults.
void CheckReplicaBounds(const FieldMap& fields, bool ok, ErrorList& errors, AutoscalingSpec* out) {
  const Field* min = fields.Get("min_replicas");
  const Field* max = fields.Get("max_replicas");
  const Field* init = fields.Get("init_replicas");
  if (!ok) return;  // a bound is invalid and was reported; comparing would mislead
  if (out->min_replicas > out->max_replicas) {
    const Field* at = min != nullptr ? min : max;
    errors.Add(at->line, "autoscaling.min_replicas",
               "must be <= " + Named("max_replicas", out->max_replicas, max != nullptr) + ", got " +
                   std::to_string(out->min_replicas));
    return;
  }
  if (init == nullptr) {
    out->init_replicas = out->min_replicas;
  } else if (out->init_replicas < out->min_replicas || out->init_replicas > out->max_replicas) {
    errors.Add(init->line, init->path,
               "must be between " + Named("min_replicas", out->min_replicas, min != nullptr) +
                   " and " + Named("max_replicas", out->max_replicas, max != nullptr) + ", got " +
                   std::to_string(out->init_replicas));
  }
}

// Reads target_replica_concurrency (default: threads per process) and max_replica_concurrency,
// and checks that the target does not exceed the maximum.
void CheckConcurrency(const FieldMap& fields, ErrorList& errors, AutoscalingSpec* out) {
  const Field* target = fields.Get("target_replica_concurrency");
  const Field* max = fields.Get("max_replica_concurrency");
  const size_t errors_before = errors.size();
  ReadNumberField(fields, "target_replica_concurrency", {0, false, kInf, true}, errors,
                  &out->target_replica_concurrency);
  ReadIntField(fields, "max_replica_concurrency", 1, 100'000, errors,
               &out->max_replica_concurrency);
  if (errors.size() != errors_before ||
      out->target_replica_concurrency <= static_cast<double>(out->max_replica_concurrency)) {
    return;
  }
  if (target != nullptr) {
    errors.Add(target->line, target->path,
               "must be <= autoscaling.max_replica_concurrency (" +
                   std::to_string(out->max_replica_concurrency) + "), got " +
                   Describe(target->value));
  } else {
    errors.Add(max->line, max->path,
               "must be >= autoscaling.target_replica_concurrency (which defaults to "
               "predictor.threads_per_process), got " +
                   Describe(max->value));
  }
}

}  // namespace

void ParseCompute(const Field* section, ErrorList& errors, ComputeSpec* out) {
  if (section == nullptr) return;
  FieldMap fields(section->value, section->path, section->line, SchemaFor("compute"), errors);
  if (const Field* cpu = fields.Get("cpu")) {
    if (auto v = ReadParsed(*cpu, "a CPU quantity like \"200m\" or 1", &ParseCpuMillis, errors)) {
      out->cpu_millis = *v;
    }
  }
  if (const Field* mem = fields.Get("mem")) {
    if (auto v = ReadParsed(*mem, "a memory quantity like \"512Mi\"", &ParseMemoryBytes, errors)) {
      out->mem_bytes = *v;
    }
  }
}

void ParseNodeGroups(const Field* field, ErrorList& errors, std::vector<std::string>* out) {
  if (field == nullptr) return;
  constexpr char kExample[] = "e.g. [cpu-spot, cpu]";
  const YAML::Node& node = field->value;
  if (!node.IsSequence() || node.size() == 0) {
    errors.Add(field->line, field->path,
               std::string("must be a non-empty list of node group names, ") + kExample +
                   " (leave the field out to run on any node), got " + Describe(node));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const Field entry{field->path + "[" + std::to_string(i) + "]", LineOf(node[i]), node[i]};
    std::optional<std::string> name = ReadScalar(entry, "a node group name", errors);
    if (!name) continue;
    if (!IsValidNodeGroup(*name)) {
      errors.Add(entry.line, entry.path,
                 "must be a node group name of at most 63 letters, digits, \"-\", \"_\" or \".\" "
                 "that starts and ends with a letter or digit (the value of the nodes' label "
                 "axon.dev/node-group), got " +
                     Describe(entry.value));
      continue;
    }
    if (std::find(out->begin(), out->end(), *name) != out->end()) {
      errors.Add(entry.line, entry.path, "names \"" + *name + "\" twice; list each group once");
      continue;
    }
    out->push_back(*name);
  }
}

void ParseAutoscaling(const Field* section, int threads_per_process, ErrorList& errors,
                      AutoscalingSpec* out) {
  out->target_replica_concurrency = threads_per_process;
  FieldMap fields(section != nullptr ? section->value : YAML::Node(),
                  section != nullptr ? section->path : "autoscaling",
                  section != nullptr ? section->line : 0, SchemaFor("autoscaling"), errors);
  const size_t errors_before = errors.size();
  ReadIntField(fields, "min_replicas", 0, kMaxInt, errors, &out->min_replicas);
  ReadIntField(fields, "max_replicas", 1, kMaxInt, errors, &out->max_replicas);
  ReadIntField(fields, "init_replicas", 0, kMaxInt, errors, &out->init_replicas);
  CheckReplicaBounds(fields, errors.size() == errors_before, errors, out);

  CheckConcurrency(fields, errors, out);
  ReadIntField(fields, "max_queue_length", 0, 1'000'000, errors, &out->max_queue_length);
  ReadDurationField(fields, "window", true, errors, &out->window);
  ReadDurationField(fields, "downscale_stabilization_period", false, errors,
                    &out->downscale_stabilization_period);
  ReadDurationField(fields, "upscale_stabilization_period", false, errors,
                    &out->upscale_stabilization_period);
  ReadNumberField(fields, "max_downscale_factor", {0, false, 1, false}, errors,
                  &out->max_downscale_factor);
  ReadNumberField(fields, "max_upscale_factor", {1, false, kInf, true}, errors,
                  &out->max_upscale_factor);
  ReadNumberField(fields, "downscale_tolerance", {0, true, 1, false}, errors,
                  &out->downscale_tolerance);
  ReadNumberField(fields, "upscale_tolerance", {0, true, kInf, true}, errors,
                  &out->upscale_tolerance);
}

void ParseUpdateStrategy(const Field* section, ErrorList& errors, UpdateStrategySpec* out) {
  if (section == nullptr) return;
  FieldMap fields(section->value, section->path, section->line, SchemaFor("update_strategy"),
                  errors);
  const char* kExpected = "an integer >= 0 or a percentage like \"25%\"";
  const Field* surge = fields.Get("max_surge");
  const Field* unavailable = fields.Get("max_unavailable");
  std::optional<CountOrPercent> s, u;
  if (surge != nullptr) s = ReadParsed(*surge, kExpected, &ParseCountOrPercent, errors);
  if (unavailable != nullptr) {
    u = ReadParsed(*unavailable, kExpected, &ParseCountOrPercent, errors);
  }
  if (s) out->max_surge = *s;
  if (u) out->max_unavailable = *u;
  if ((surge == nullptr || s) && (unavailable == nullptr || u) && out->max_surge.value == 0 &&
      out->max_unavailable.value == 0) {
    errors.Add(section->line, "update_strategy",
               "max_surge and max_unavailable cannot both be 0; set one of them above 0 so "
               "that a rolling update can make progress");
  }
}

}  // namespace axon::spec
