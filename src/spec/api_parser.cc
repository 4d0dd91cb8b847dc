#include "spec/api_parser.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "spec/nearest_name.h"
#include "spec/quantity.h"

namespace axon::spec {
namespace {

constexpr std::string_view kTopFields[] = {
    "name",       "kind",    "predictor",   "compute", "autoscaling", "update_strategy",
    "networking", "logging", "node_groups", "queue",   "definition"};
constexpr std::string_view kTopUnsupported[] = {"pod", "handler"};
constexpr std::string_view kPredictorFields[] = {"type",
                                                 "path",
                                                 "model_path",
                                                 "model_version",
                                                 "inputs",
                                                 "outputs",
                                                 "models",
                                                 "dependencies",
                                                 "command",
                                                 "port",
                                                 "readiness_path",
                                                 "image",
                                                 "config",
                                                 "env",
                                                 "threads_per_process",
                                                 "intra_op_threads",
                                                 "server_side_batching"};
constexpr std::string_view kPredictorUnsupported[] = {
    "tensorflow_serving_image", "processes_per_replica", "python_path", "log_level", "shm_size",
    "multi_model_reloading"};
constexpr std::string_view kModelFields[] = {"name",          "type",   "model_path",
                                             "model_version", "inputs", "outputs"};
constexpr std::string_view kMultiModelFields[] = {"paths", "dir", "cache_size", "disk_cache_size"};
constexpr std::string_view kModelPathFields[] = {"name", "path"};
constexpr std::string_view kDependenciesFields[] = {"pip", "shell"};
constexpr std::string_view kDependenciesUnsupported[] = {"conda"};
constexpr std::string_view kBatchingFields[] = {"max_batch_size", "batch_interval"};
constexpr std::string_view kTensorFields[] = {"name", "dtype", "shape"};
constexpr std::string_view kComputeFields[] = {"cpu", "mem"};
constexpr std::string_view kComputeUnsupported[] = {"gpu", "inf", "shm"};
constexpr std::string_view kAutoscalingFields[] = {"min_replicas",
                                                   "max_replicas",
                                                   "init_replicas",
                                                   "target_replica_concurrency",
                                                   "max_replica_concurrency",
                                                   "max_queue_length",
                                                   "window",
                                                   "downscale_stabilization_period",
                                                   "upscale_stabilization_period",
                                                   "max_downscale_factor",
                                                   "max_upscale_factor",
                                                   "downscale_tolerance",
                                                   "upscale_tolerance"};
constexpr std::string_view kUpdateStrategyFields[] = {"max_surge", "max_unavailable"};
constexpr std::string_view kNetworkingFields[] = {"endpoint", "timeout", "api_keys"};
constexpr std::string_view kNetworkingUnsupported[] = {"api_gateway"};
constexpr std::string_view kLoggingFields[] = {"requests", "sample"};
// A splitter's schemas also hold the RealtimeAPI fields that CheckSplitterFields explains.
constexpr std::string_view kSplitterTopFields[] = {
    "name",    "kind",        "networking",      "apis",    "predictor",
    "compute", "autoscaling", "update_strategy", "logging", "node_groups"};
constexpr std::string_view kSplitTargetFields[] = {"name", "weight", "shadow"};
constexpr std::string_view kQueueFields[] = {"max_attempts", "result_retention"};
constexpr std::string_view kDefinitionFields[] = {"path", "config", "env", "dependencies"};
constexpr std::string_view kDefinitionUnsupported[] = {"python_path", "image", "log_level",
                                                       "shm_size"};

struct Section {
  std::string_view name;
  std::span<const std::string_view> fields;
  std::span<const std::string_view> unsupported;
};

constexpr std::array<Section, 17> kSections = {{
    {"", kTopFields, kTopUnsupported},
    {"predictor", kPredictorFields, kPredictorUnsupported},
    {"predictor.dependencies", kDependenciesFields, kDependenciesUnsupported},
    {"predictor.server_side_batching", kBatchingFields, {}},
    {"predictor.models[]", kModelFields, {}},
    {"predictor.models", kMultiModelFields, {}},
    {"predictor.models.paths", kModelPathFields, {}},
    {"tensor", kTensorFields, {}},
    {"compute", kComputeFields, kComputeUnsupported},
    {"autoscaling", kAutoscalingFields, {}},
    {"update_strategy", kUpdateStrategyFields, {}},
    {"networking", kNetworkingFields, kNetworkingUnsupported},
    {"logging", kLoggingFields, {}},
    {"queue", kQueueFields, {}},
    {"definition", kDefinitionFields, kDefinitionUnsupported},
    {"TrafficSplitter", kSplitterTopFields, kTopUnsupported},
    {"TrafficSplitter.apis", kSplitTargetFields, {}},
}};

constexpr std::string_view kSupportedKinds[] = {kRealtimeKind, kAsyncKind, kBatchKind, kTaskKind,
                                                kSplitterKind};

// A valid name close to `name` ("Iris_Model" -> "iris-model"), or "" if none.
std::string FixName(std::string_view name) {
  std::string fixed;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) fixed += static_cast<char>(std::tolower(u));
    if (c == '_' || c == '-' || c == '.' || c == ' ') fixed += '-';
  }
  while (!fixed.empty() && !std::isalpha(static_cast<unsigned char>(fixed.front()))) {
    fixed.erase(0, 1);
  }
  if (fixed.size() > 63) fixed.resize(63);
  while (!fixed.empty() && fixed.back() == '-') fixed.pop_back();
  return IsValidApiName(fixed) ? fixed : "";
}

// Checks the name field; returns the name when valid.
std::optional<std::string> ParseName(const Field* field, int api_line, ErrorList& errors) {
  const char* kRule =
      "a lowercase name of letters, digits and \"-\" that starts with a letter, ends with a letter "
      "or digit and has at most 63 characters";
  if (field == nullptr) {
    errors.Add(api_line, "name", "is required: " + std::string(kRule) + ", e.g. \"iris\"");
    return std::nullopt;
  }
  std::optional<std::string> name = ReadScalar(*field, kRule, errors);
  if (!name) return std::nullopt;
  if (!IsValidApiName(*name)) {
    std::string fixed = FixName(*name);
    errors.Add(field->line, field->path,
               "must be " + std::string(kRule) + ", got " + Describe(field->value) +
                   (fixed.empty() ? "" : "; try \"" + fixed + "\""));
    return std::nullopt;
  }
  return name;
}

void ParseKind(const Field* field, int api_line, ErrorList& errors, std::string* out) {
  const std::string allowed = QuotedList(kSupportedKinds);
  if (field == nullptr) {
    errors.Add(api_line, "kind", "is required; allowed kinds: " + allowed);
    return;
  }
  std::optional<std::string> kind = ReadScalar(*field, "one of " + allowed, errors);
  if (!kind) return;
  if (ContainsName(kSupportedKinds, *kind)) {
    *out = *kind;
    return;
  }
  std::string message = "must be one of " + allowed + ", got " + Describe(field->value);
  if (std::optional<std::string> near = NearestName(*kind, kSupportedKinds)) {
    message += "; did you mean \"" + *near + "\"?";
  }
  errors.Add(field->line, field->path, message);
}

// Returns the normalized endpoint ("iris" -> "/iris", "/a/" -> "/a"), or nullopt after an error.
std::optional<std::string> CheckEndpoint(const Field& field, const std::string& text,
                                         ErrorList& errors) {
  std::string endpoint = text.starts_with('/') ? text : "/" + text;
  if (endpoint.size() > 1 && endpoint.back() == '/') endpoint.pop_back();
  auto fail = [&](const std::string& what) {
    errors.Add(field.line, field.path, what + ", got " + Describe(field.value));
    return std::nullopt;
  };
  if (endpoint == "/") return fail("must be a path other than \"/\", like \"/iris\"");
  for (char c : endpoint) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("._~/-").find(c) == std::string_view::npos) {
      return fail("may only contain letters, digits and the characters . _ ~ / -");
    }
  }
  if (endpoint.find("//") != std::string::npos) return fail("must not contain \"//\"");
  if ((endpoint + "/").find("/./") != std::string::npos ||
      (endpoint + "/").find("/../") != std::string::npos) {
    return fail("must not contain \".\" or \"..\" path segments");
  }
  if (endpoint.starts_with("/_axon")) {
    return fail("must not start with \"/_axon\" (reserved for axon's own routes)");
  }
  if (endpoint == "/v2" || endpoint.starts_with("/v2/")) {
    return fail(
        "must not be \"/v2\" or start with \"/v2/\" (reserved for the Open Inference "
        "Protocol)");
  }
  return endpoint;
}

// Reads networking.timeout and networking.api_keys.
void ParseNetworkingLimits(const FieldMap& fields, ErrorList& errors, NetworkingSpec* out) {
  if (const Field* timeout = fields.Get("timeout")) {
    if (auto d = ReadParsed(*timeout, "a duration like \"30s\"", &ParsePositiveDuration, errors)) {
      out->timeout = *d;
    }
  }
  if (const Field* keys = fields.Get("api_keys")) {
    if (auto v = ReadBool(*keys, errors)) out->api_keys = *v;
  }
}

// Reads networking (already checked against its schema); defaults the endpoint to "/<name>".
void ParseNetworking(const FieldMap& fields, ErrorList& errors, ParsedApi* api) {
  if (api->spec.RunsReplicas()) ParseNetworkingLimits(fields, errors, &api->spec.networking);
  const Field* endpoint = fields.Get("endpoint");
  if (endpoint == nullptr) {
    if (!api->name_ok) return;
    api->spec.networking.endpoint = "/" + api->spec.name;
    if (api->spec.name == "v2") {
      errors.Add(api->name_line, "name",
                 "an API named \"v2\" needs a networking.endpoint: its default endpoint, \"/v2\", "
                 "is reserved for the Open Inference Protocol");
    }
    return;
  }
  api->endpoint_line = endpoint->line;
  std::optional<std::string> text = ReadScalar(*endpoint, "a URL path like \"/iris\"", errors);
  if (!text) return;
  if (std::optional<std::string> checked = CheckEndpoint(*endpoint, *text, errors)) {
    api->spec.networking.endpoint = *checked;
  }
}

// Reads logging: requests (a bool) and sample (in (0, 1]), which needs requests: true.
void ParseLogging(const Field* section, ErrorList& errors, LoggingSpec* out) {
  if (section == nullptr) return;
  FieldMap fields(section->value, section->path, section->line, SchemaFor("logging"), errors);
  if (!fields.ok()) return;
  const Field* requests = fields.Get("requests");
  if (requests != nullptr) {
    if (auto v = ReadBool(*requests, errors)) out->requests = *v;
  }
  const Field* sample = fields.Get("sample");
  if (sample == nullptr) return;
  if (auto v = ReadNumber(*sample, {0, false, 1, true}, errors)) out->sample = *v;
  if (requests == nullptr) {
    errors.Add(sample->line, sample->path,
               "samples request logging, which is off; add `requests: true` to logging");
  }
}

}  // namespace

bool IsValidApiName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name.front() < 'a' || name.front() > 'z' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

MapSchema SchemaFor(std::string_view section) {
  MapSchema schema;
  for (const Section& s : kSections) {
    if (s.name == section) {
      schema.fields = s.fields;
      schema.unsupported = s.unsupported;
    }
  }
  schema.home_of = [section](std::string_view key) -> std::string {
    for (const Section& s : kSections) {
      if (s.name == section || s.name == "tensor" || s.name.starts_with(kSplitterKind) ||
          !ContainsName(s.fields, key)) {
        continue;
      }
      return s.name.empty() ? std::string(key) : std::string(s.name) + "." + std::string(key);
    }
    return "";
  };
  return schema;
}

ParsedApi ParseApi(const YAML::Node& node, const std::string& label, const std::string& file,
                   const std::filesystem::path& spec_dir, ErrorList& errors) {
  const size_t errors_before = errors.size();
  ParsedApi api;
  api.spec.source_file = file;
  api.spec.source_line = LineOf(node);
  const int line = api.spec.source_line;
  // Name the API in every message when its name is usable, even in errors found before it.
  const YAML::Node name_node = node["name"];
  const bool name_usable =
      name_node.IsDefined() && name_node.IsScalar() && IsValidApiName(name_node.Scalar());
  errors.SetApi(name_usable ? name_node.Scalar() : label);

  const YAML::Node kind_node = node["kind"];
  const bool splitter =
      kind_node.IsDefined() && kind_node.IsScalar() && kind_node.Scalar() == kSplitterKind;
  FieldMap top(node, "", line, SchemaFor(splitter ? kSplitterKind : ""), errors);
  const Field* name_field = top.Get("name");
  api.name_line = name_field != nullptr ? name_field->line : line;
  if (std::optional<std::string> name = ParseName(name_field, line, errors)) {
    api.spec.name = *name;
    api.name_ok = true;
  }
  ParseKind(top.Get("kind"), line, errors, &api.spec.kind);
  const Field* net = top.Get("networking");
  const FieldMap networking(net != nullptr ? net->value : YAML::Node(), "networking",
                            net != nullptr ? net->line : 0, SchemaFor("networking"), errors);
  if (splitter) {
    CheckSplitterFields(top, networking, errors);
    ParseSplitTargets(top.Get("apis"), line, errors, &api.spec.apis);
  } else {
    CheckJobFields(top, api.spec.kind, errors);
    if (api.spec.kind == kTaskKind) {
      ParseDefinition(top.Get("definition"), line, spec_dir, errors, &api.spec.predictor);
    } else {
      ParsePredictor(top.Get("predictor"), line, spec_dir, errors, &api.spec.predictor);
    }
    ParseCompute(top.Get("compute"), errors, &api.spec.compute);
    ParseNodeGroups(top.Get("node_groups"), errors, &api.spec.node_groups);
    ParseAutoscaling(top.Get("autoscaling"), api.spec.predictor.threads_per_process, errors,
                     &api.spec.autoscaling);
    ParseUpdateStrategy(top.Get("update_strategy"), errors, &api.spec.update_strategy);
    ParseLogging(top.Get("logging"), errors, &api.spec.logging);
    ParseQueue(top.Get("queue"), api.spec.kind, errors, &api.spec.queue);
  }
  api.endpoint_line = line;
  ParseNetworking(networking, errors, &api);
  api.valid = errors.size() == errors_before;
  return api;
}

}  // namespace axon::spec
