// Parsing of one API mapping into an ApiSpec, section by section. Internal to the spec library
// (spec_parser.h is the public entry point). Pure functions; thread-safe given distinct
// ErrorLists.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "spec/api_spec.h"
#include "spec/yaml_fields.h"

namespace axon::spec {

// One parsed API plus what the cross-API checks (duplicate names and endpoints) need.
struct ParsedApi {
  ApiSpec spec;
  bool valid = false;     // no error was reported for this API
  bool name_ok = false;   // spec.name is present and valid
  int name_line = 0;      // line of the name field
  int endpoint_line = 0;  // line of networking.endpoint, or of the API when defaulted
};

// Whether `name` is a valid API name: [a-z0-9-], starts with a letter, ends with a letter or
// digit, at most 63 characters (a DNS label, so it can name Kubernetes objects).
bool IsValidApiName(std::string_view name);

// Parses the API mapping `node`. `label` ("#2") names the API in errors until its name is known;
// `file` becomes spec.source_file; relative predictor paths resolve against `spec_dir`, an
// absolute folder. Errors go to `errors`.
ParsedApi ParseApi(const YAML::Node& node, const std::string& label, const std::string& file,
                   const std::filesystem::path& spec_dir, ErrorList& errors);

// Sections, in the order ParseApi reads them. `section` is the section's own field (nullptr when
// absent); `api_line` is the API's line, for errors about missing required fields.
void ParsePredictor(const Field* section, int api_line, const std::filesystem::path& spec_dir,
                    ErrorList& errors, PredictorSpec* out);
// Native predictor types read their model from the predictor's own fields.
void ParseNativeModel(const FieldMap& fields, int line, const std::string& type,
                      const std::filesystem::path& spec_dir, ErrorList& errors, ModelSpec* out);
// A native predictor's inputs and outputs (the declarations every model of it shares).
void ParseNativeTensors(const FieldMap& fields, ErrorList& errors, ModelSpec* out);
// predictor.models of a native predictor (multi_model_parser.cc): a mapping of many models of
// its `type`, instead of model_path. Sets out->model (type, inputs, outputs), out->multi_model
// and out->path (the spec's folder: the replica's working folder).
void ParseNativeMultiModel(const FieldMap& fields, const Field& models, const std::string& type,
                           const std::filesystem::path& spec_dir, ErrorList& errors,
                           PredictorSpec* out);
// predictor.models of a Python predictor as a list: its native models.
void ParseModels(const Field& field, const std::filesystem::path& spec_dir, ErrorList& errors,
                 std::vector<ModelSpec>* out);
// predictor.models of a Python predictor as a mapping (multi_model_parser.cc): {paths: [{name,
// path}], dir, cache_size, disk_cache_size}; paths and dir must exist.
void ParseMultiModel(const Field& field, const std::filesystem::path& spec_dir, ErrorList& errors,
                     MultiModelSpec* out);
void ParseBatching(const Field& field, ErrorList& errors, BatchingSpec* out);
// The value of `field`, a path resolved against `spec_dir` and normalized, when it names an
// existing file or folder; else an error at `field` and nullopt.
std::optional<std::string> ReadModelPath(const Field& field, const std::filesystem::path& spec_dir,
                                         ErrorList& errors);
// `text` (the value of `field`) resolved against `spec_dir` and normalized, when it names an
// existing regular file; else an error at `field` and nullopt.
std::optional<std::string> ResolveRegularFile(const Field& field, const std::string& text,
                                              const std::filesystem::path& spec_dir,
                                              ErrorList& errors);
// The fields of a command predictor (type: command): command, port, readiness_path and path
// (the folder it runs in, default `spec_dir`). `line` is the predictor section's.
void ParseCommand(const FieldMap& fields, int line, const std::filesystem::path& spec_dir,
                  ErrorList& errors, PredictorSpec* out);
// predictor.dependencies of a Python predictor whose file is `predictor_path` ("" when that
// path was invalid): both files must lie in the predictor's folder.
void ParseDependencies(const Field& field, const std::filesystem::path& spec_dir,
                       const std::string& predictor_path, ErrorList& errors, DependenciesSpec* out);
void ParseCompute(const Field* section, ErrorList& errors, ComputeSpec* out);
// node_groups: a non-empty list of distinct node group names (Kubernetes label values).
void ParseNodeGroups(const Field* field, ErrorList& errors, std::vector<std::string>* out);
// `threads_per_process` is the default of target_replica_concurrency.
void ParseAutoscaling(const Field* section, int threads_per_process, ErrorList& errors,
                      AutoscalingSpec* out);
void ParseUpdateStrategy(const Field* section, ErrorList& errors, UpdateStrategySpec* out);

// A TrafficSplitter's `apis` (splitter_parser.cc): each entry's fields, names listed once, at
// most one shadow, the other weights summing to 100.
void ParseSplitTargets(const Field* field, int api_line, ErrorList& errors,
                       std::vector<SplitTarget>* out);
// Reports the RealtimeAPI fields a TrafficSplitter was given (its schemas accept them so that
// this message, rather than "unknown field", says why they do not apply).
void CheckSplitterFields(const FieldMap& top, const FieldMap& networking, ErrorList& errors);
// Across the file: a splitter's APIs that are itself, or another kind declared in the file.
// Whether the others exist is the operator's check (they may be deployed already).
void CheckSplitTargetsInFile(const std::vector<ParsedApi>& apis, ErrorList& errors);

// An AsyncAPI's `queue` (async_parser.cc): max_attempts and result_retention. Any other kind
// that has the section gets an error that says it belongs to an AsyncAPI.
void ParseQueue(const Field* section, const std::string& kind, ErrorList& errors, QueueSpec* out);
// BatchAPI and TaskAPI (job_parser.cc): the fields a job's API may not have (autoscaling,
// update_strategy; a TaskAPI's predictor, a BatchAPI's non-Python predictor), and `definition`
// on any other kind.
void CheckJobFields(const FieldMap& top, const std::string& kind, ErrorList& errors);
// A TaskAPI's `definition` (Cortex's name): path (a Python file with class Task), config, env,
// dependencies; read as a Python predictor.
void ParseDefinition(const Field* section, int api_line, const std::filesystem::path& spec_dir,
                     ErrorList& errors, PredictorSpec* out);

// The schema of section `section` ("" for the API's top level, "tensor" for an entry of inputs
// or outputs, "TrafficSplitter" and "TrafficSplitter.<section>" for a splitter's), with
// misplaced-field hints.
MapSchema SchemaFor(std::string_view section);

}  // namespace axon::spec
