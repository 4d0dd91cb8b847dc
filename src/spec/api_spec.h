// The API spec: what a user declares in axon.yaml, after defaults are applied and paths are
// resolved. Plain values; copy freely. Parsing and validation live in spec_parser.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace axon::spec {

using Millis = std::chrono::milliseconds;

// A count given either as a number ("1") or as a percentage of replicas ("25%").
struct CountOrPercent {
  int64_t value = 0;
  bool percent = false;
  // The absolute count for `replicas` replicas; percentages round up when `round_up`.
  int64_t Resolve(int64_t replicas, bool round_up) const;
  bool operator==(const CountOrPercent&) const = default;
};

// A tensor of a native model as declared in the spec. `shape` is one instance's shape, without
// the batch dimension; -1 = any size.
struct TensorDecl {
  std::string name;
  std::string dtype = "float32";  // a tensor::DTypeName
  std::vector<int64_t> shape;
  bool operator==(const TensorDecl&) const = default;
};

// A native model: the predictor itself (type torchscript, onnx or xgboost) or one of a Python
// predictor's `models`.
struct ModelSpec {
  std::string name;        // key for model_client.predict(model_name=...); "" for the predictor's
  std::string type;        // torchscript | onnx | xgboost
  std::string model_path;  // absolute: a model file, or a folder (maybe of numbered versions);
                           // or (predictor.model_path only) an http(s) URL of a model file
  int64_t model_version = 0;        // the numbered folder to serve; 0 = the highest
  std::vector<TensorDecl> inputs;   // optional where the model file carries them
  std::vector<TensorDecl> outputs;  // optional; names the outputs
  bool operator==(const ModelSpec&) const = default;
};

// server_side_batching. With a batch_interval (Cortex's policy) a batch runs when it holds
// max_batch_size requests or batch_interval after its first request, whichever comes first;
// without one (0), batching is adaptive: a batch runs as soon as a worker is free, with the
// requests queued by then (replica/batcher.h).
struct BatchingSpec {
  int64_t max_batch_size = 0;  // 0 = batching off
  Millis batch_interval{0};    // 0 = adaptive
  bool enabled() const { return max_batch_size > 0; }
  bool operator==(const BatchingSpec&) const = default;
};

bool IsNativeType(std::string_view predictor_type);  // torchscript, onnx or xgboost
// A model_path of the form http://... or https://...: one model file the operator downloads at
// deploy into the version's bundle (operator/model_download.h).
bool IsModelUrl(std::string_view model_path);

// Cortex's predictor.dependencies: what the replica's Python environment needs beyond the
// system's packages. Both files lie inside the predictor's folder (so they are in its bundle).
struct DependenciesSpec {
  std::string pip;    // absolute path of a pip requirements file, or ""
  std::string shell;  // absolute path of a bash script run before pip, or ""
  bool empty() const { return pip.empty() && shell.empty(); }
  bool operator==(const DependenciesSpec&) const = default;
};

// type: command, Cortex's container workloads run locally: any HTTP server, started by the
// replica with $AXON_PORT set, probed, and sent the API's requests.
struct CommandSpec {
  std::vector<std::string> argv;  // the program (looked up on PATH without a "/") and its args
  int port = 0;                   // the port it must listen on; 0 = a free one per replica
  std::string readiness_path;     // "" = ready once it answers HTTP at all (GET /)
  // Kubernetes: the user's container image that holds the server; its container runs the
  // command itself (no axon-replica). "" = the command runs inside the replica image. Locally
  // the command runs on the machine and this is not used.
  std::string image;
  bool operator==(const CommandSpec&) const = default;
};

// predictor.models as a mapping (Cortex 0.35-0.42): models a Python predictor loads itself with
// its load_model(model_path), or a native predictor with its runtime, on first use, into a
// least-recently-used cache of `cache_size` per replica. Folders are read in place and
// watched: a new numbered version folder is loaded live (backends/python/model_cache.py,
// replica/native_model_cache.h).
struct ModelPathSpec {
  std::string name;  // what get_model(name) and ?model= use
  std::string path;  // absolute: a model file, or a folder (maybe of numbered versions)
  bool operator==(const ModelPathSpec&) const = default;
};

struct MultiModelSpec {
  std::vector<ModelPathSpec> paths;
  std::string dir;              // absolute: each folder in it is a model named after it; or ""
  int64_t cache_size = 0;       // models loaded at once per replica; 0 = no limit
  int64_t disk_cache_size = 0;  // Cortex's on-disk cache; models are read in place here
  bool empty() const { return paths.empty() && dir.empty(); }
  bool operator==(const MultiModelSpec&) const = default;
};

struct PredictorSpec {
  std::string type = "python";  // python, command, or a native type (IsNativeType)
  // python: absolute path of the predictor module (.py); command: the folder it runs in;
  // a native type with multi_model: the spec's folder (the replica's working folder)
  std::string path;
  // native types: the model served; with multi_model, the type and the tensor declarations
  // that every model shares (model_path empty)
  ModelSpec model;
  std::vector<ModelSpec> models;  // python: native models handed to PythonPredictor
  // python and native types: models: {paths, dir, cache_size, disk_cache_size}
  MultiModelSpec multi_model;
  DependenciesSpec dependencies;  // python: the replica's own virtual environment
  CommandSpec command;            // command: the server to run
  nlohmann::json config = nlohmann::json::object();  // passed to PythonPredictor.__init__
  std::map<std::string, std::string> env;            // environment of each replica
  int threads_per_process = 1;                       // concurrent predict() calls per replica
  int intra_op_threads = 1;  // threads one libtorch/OpenCV/XGBoost call may use
  BatchingSpec server_side_batching;
  bool operator==(const PredictorSpec&) const = default;
};

struct ComputeSpec {
  int64_t cpu_millis = 200;  // "200m" or 1 (= 1000m)
  int64_t mem_bytes = 0;     // 0 = no limit; "512Mi", "1G", ...
  int64_t gpu = 0;  // GPUs per replica (Kubernetes: nvidia.com/gpu); not accepted in YAML yet
  bool operator==(const ComputeSpec&) const = default;
};

// Cortex's autoscaling fields and defaults.
struct AutoscalingSpec {
  int64_t min_replicas = 1;
  int64_t max_replicas = 100;
  int64_t init_replicas = 1;               // default: min_replicas
  double target_replica_concurrency = 1;   // default: threads_per_process
  int64_t max_replica_concurrency = 1024;  // requests sent to one replica at once
  int64_t max_queue_length = 100;  // per ready replica, waiting in the gateway beyond that; 503
  Millis window{60'000};
  Millis downscale_stabilization_period{300'000};
  Millis upscale_stabilization_period{60'000};
  double max_downscale_factor = 0.75;
  double max_upscale_factor = 1.5;
  double downscale_tolerance = 0.05;
  double upscale_tolerance = 0.05;
  bool operator==(const AutoscalingSpec&) const = default;
};

struct UpdateStrategySpec {
  CountOrPercent max_surge{25, true};
  CountOrPercent max_unavailable{25, true};
  bool operator==(const UpdateStrategySpec&) const = default;
};

struct NetworkingSpec {
  std::string endpoint;   // always starts with "/"; default "/<name>"
  Millis timeout{0};      // how long the gateway gives a request; 0 = the platform's default
  bool api_keys = false;  // requests need a key from `axon keys create` (also once one exists)
  bool operator==(const NetworkingSpec&) const = default;
};

// Request logging (Cortex-style `logging: {requests: true, sample: 0.1}`): the gateway appends
// one JSON line per sampled request (method, path, status, latency, request id; never the
// body) to the API's log.
struct LoggingSpec {
  bool requests = false;
  double sample = 1;  // the fraction of requests logged, in (0, 1]
  bool operator==(const LoggingSpec&) const = default;
};

// One API a TrafficSplitter sends requests to (Cortex's `apis: [{name, weight, shadow}]`).
struct SplitTarget {
  std::string name;     // a RealtimeAPI
  int64_t weight = 0;   // % of requests; for the shadow: % of requests copied to it
  bool shadow = false;  // receives copies, its answers are discarded
  int source_line = 0;  // where the entry was declared (for messages); not part of equality
  bool operator==(const SplitTarget& o) const {
    return name == o.name && weight == o.weight && shadow == o.shadow;
  }
};

// An AsyncAPI's queue: each request is stored, answered with an id at once, and run by a
// replica later; at least once, up to max_attempts times when replicas die while running it.
struct QueueSpec {
  int64_t max_attempts = 3;                       // runs of a request before it fails
  Millis result_retention{7LL * 24 * 3'600'000};  // how long a finished request is kept
  bool operator==(const QueueSpec&) const = default;
};

inline constexpr std::string_view kRealtimeKind = "RealtimeAPI";
inline constexpr std::string_view kSplitterKind = "TrafficSplitter";
inline constexpr std::string_view kAsyncKind = "AsyncAPI";
inline constexpr std::string_view kBatchKind = "BatchAPI";
inline constexpr std::string_view kTaskKind = "TaskAPI";
// "a RealtimeAPI", "an AsyncAPI": a kind in a sentence.
inline std::string KindWithArticle(std::string_view kind) {
  return (kind.starts_with('A') ? "an " : "a ") + std::string(kind);
}

struct ApiSpec {
  std::string name;
  std::string kind = std::string(kRealtimeKind);
  PredictorSpec predictor;
  ComputeSpec compute;
  AutoscalingSpec autoscaling;
  UpdateStrategySpec update_strategy;
  NetworkingSpec networking;
  LoggingSpec logging;
  // Cortex's node_groups: the node groups the replicas may run on (Kubernetes: nodes labelled
  // axon.dev/node-group=G); empty = any node. One machine has no groups: ignored locally.
  std::vector<std::string> node_groups;
  // kind TrafficSplitter: where its requests go (it has no predictor and no replicas).
  std::vector<SplitTarget> apis;
  QueueSpec queue;  // kinds AsyncAPI, BatchAPI and TaskAPI
  // Where the API was declared (for messages); not part of equality.
  std::string source_file;
  int source_line = 0;

  bool operator==(const ApiSpec& o) const {
    return name == o.name && kind == o.kind && predictor == o.predictor && compute == o.compute &&
           autoscaling == o.autoscaling && update_strategy == o.update_strategy &&
           networking == o.networking && logging == o.logging && node_groups == o.node_groups &&
           apis == o.apis && queue == o.queue;
  }
  // Whether the API runs replicas of a predictor (a TrafficSplitter only routes).
  bool RunsReplicas() const { return kind != kSplitterKind; }
  // Whether requests are queued and answered later (kind AsyncAPI).
  bool IsAsync() const { return kind == kAsyncKind; }
  // Whether it runs jobs (kinds BatchAPI and TaskAPI): replicas only while a job runs, as
  // many as the job asks for (operator/job_runner.h); no autoscaling.
  bool RunsJobs() const { return kind == kBatchKind || kind == kTaskKind; }
  // Whether it keeps replicas of its own, scaled by the autoscaler (RealtimeAPI, AsyncAPI).
  bool ScalesReplicas() const { return RunsReplicas() && !RunsJobs(); }
};

// Lossless round trip through JSON (the state store and the management API use it).
nlohmann::json ToJson(const ApiSpec& spec);
ApiSpec ApiSpecFromJson(const nlohmann::json& j);  // throws nlohmann::json::exception

}  // namespace axon::spec
