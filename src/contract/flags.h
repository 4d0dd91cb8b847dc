// Command-line flags that one Axon process passes to another (the CLI to the operator, the
// operator to the gateway and to each replica). Each flags struct lists its fields once, in a
// static Fields(self, visit) function; ToArgs() (the sender) and Register() (the receiver's
// parser) are both derived from that list, so a flag cannot be sent without being parsed or
// parsed without being sent.
//
// Plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace axon::contract {

// What a server accepts from clients; the same on the operator's command line (set by `axon up`)
// and on the gateway's (passed on by the operator).
struct ClientLimits {
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  uint64_t max_header_bytes = 16 * 1024;
  int64_t header_timeout_ms = 10'000;  // to receive a request's headers once it has begun
  int64_t idle_timeout_ms = 75'000;    // a keep-alive connection idle this long is closed
  bool operator==(const ClientLimits&) const = default;

  template <typename Self, typename Visit>
  static void Fields(Self& f, Visit&& v) {
    v("--max-body-bytes", f.max_body_bytes, "largest request body (413 above)");
    v("--max-header-bytes", f.max_header_bytes, "largest request header block (431 above)");
    v("--header-timeout-ms", f.header_timeout_ms,
      "how long a client may take to send a request's headers (slow clients are cut off)");
    v("--idle-timeout-ms", f.idle_timeout_ms,
      "idle keep-alive connections are closed after this (also the time for a body)");
  }
};

// Flags of axon-gateway, set by the operator.
struct GatewayFlags {
  std::string host = "127.0.0.1";
  uint16_t port = 8888;
  uint16_t grpc_port = 8890;  // the Open Inference Protocol over gRPC; 0: none
  int threads = 2;
  // Admin listener (route pushes, statistics): "@name" (abstract Unix socket), a socket file
  // path, or "host:port". Not served on the public port.
  std::string admin_listen;
  ClientLimits limits;
  int64_t drain_ms = 30'000;  // SIGTERM: how long requests in flight may finish
  int64_t sample_ms = 1000;   // how often in-flight requests are sampled
  std::string token_file;
  std::string routes_file;
  std::string tls_cert;  // PEM; with tls_key, the public port speaks HTTPS
  std::string tls_key;
  bool operator==(const GatewayFlags&) const = default;

  template <typename Self, typename Visit>
  static void Fields(Self& f, Visit&& v) {
    v("--host", f.host, "address to listen on");
    v("--port", f.port, "port to listen on (0 = any)");
    v("--grpc-port", f.grpc_port, "port of the Open Inference Protocol over gRPC (0 = no gRPC)");
    v("--threads", f.threads, "I/O threads");
    v("--admin-listen", f.admin_listen, "admin listener: @name, a socket path or host:port");
    ClientLimits::Fields(f.limits, v);
    v("--drain-ms", f.drain_ms, "how long SIGTERM waits for requests in flight");
    v("--sample-ms", f.sample_ms, "how often in-flight requests are sampled");
    v("--token-file", f.token_file, "file holding the platform token");
    v("--routes-file", f.routes_file, "where the route table is persisted");
    v("--tls-cert", f.tls_cert, "PEM certificate chain: serve HTTPS");
    v("--tls-key", f.tls_key, "PEM private key of --tls-cert");
  }
};

// Flags of axon-replica, set by the operator for each replica it starts.
struct ReplicaFlags {
  std::string spec_file;
  std::string replica_id = "replica";
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string unix_socket;  // also listen here ("@name": abstract namespace)
  std::string port_file;    // written once listening
  std::string error_file;   // why the predictor could not load
  int io_threads = 1;
  int64_t drain_ms = 30'000;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  // In a pod: fetch the bundle named bundle_hash from the operator at bundle_url into the
  // working directory before loading (contract/bundles.h). Empty: the bundle is on disk.
  std::string bundle_url;
  std::string bundle_hash;
  std::string bundle_key;
  // A native runtime type: load it, then wait on stdin for the line that makes this process
  // one API's replica (contract/standby.h). Empty: a replica from the start.
  std::string standby;
  bool operator==(const ReplicaFlags&) const = default;

  template <typename Self, typename Visit>
  static void Fields(Self& f, Visit&& v) {
    v("--spec", f.spec_file, "the API spec as JSON");
    v("--replica-id", f.replica_id, "name used in logs");
    v("--host", f.host, "address to listen on");
    v("--port", f.port, "port (0 = any free port)");
    v("--unix-socket", f.unix_socket, "also listen on this Unix socket (@name: abstract)");
    v("--port-file", f.port_file, "where to write the port once listening");
    v("--error-file", f.error_file, "where to write why loading failed");
    v("--io-threads", f.io_threads, "I/O threads");
    v("--drain-ms", f.drain_ms, "how long SIGTERM waits for requests in flight");
    v("--max-body-bytes", f.max_body_bytes, "largest request body (413 above)");
    v("--bundle-url", f.bundle_url, "fetch the bundle from the operator here (http://HOST:PORT)");
    v("--bundle-hash", f.bundle_hash, "the bundle to fetch into the working directory");
    v("--bundle-key", f.bundle_key, "the key that opens that bundle");
    v("--standby", f.standby,
      "load this native runtime (torchscript, onnx, xgboost), then read the replica's flags "
      "from stdin");
  }
};

// Flags of axon-operator, set by `axon up`.
struct OperatorFlags {
  std::string host = "127.0.0.1";
  uint16_t port = 8889;
  std::string gateway_host = "127.0.0.1";
  uint16_t gateway_port = 8888;
  uint16_t grpc_port = 8890;  // the gateway's gRPC port; 0: no gRPC
  int gateway_threads = 2;
  ClientLimits limits;  // the gateway's and the management API's
  int64_t tick_ms = 200;
  int64_t starting_tick_ms = 20;
  int64_t drain_ms = 30'000;
  int64_t request_timeout_ms = 60'000;
  int64_t ready_timeout_ms = 600'000;
  int64_t autoscale_ms = 10'000;
  int64_t sample_ms = 1000;
  int64_t history_ms = 5000;
  int64_t hold_timeout_ms = 60'000;
  int64_t max_held = 1000;
  bool standby = true;  // local backend: standby replicas for native APIs that scale from zero
  std::string tls_cert;
  std::string tls_key;
  // Cluster mode (docs/kubernetes.md): replicas are pods of a Kubernetes cluster.
  std::string backend = "local";  // or "kubernetes"
  std::string kubeconfig;         // empty: the pod's service account (in-cluster)
  std::string kube_namespace = "axon";
  std::string replica_image = "axon-replica:latest";
  std::string image_pull_policy = "IfNotPresent";
  std::string bundle_url;  // the management API as pods reach it: http://HOST:PORT
  // "process": the operator runs its own gateway; "pods" (kubernetes backend, the operator in
  // the cluster): the namespace's gateway pods, fed over their admin port.
  std::string gateway = "process";
  uint16_t gateway_admin_port = 9001;
  bool operator==(const OperatorFlags&) const = default;

  template <typename Self, typename Visit>
  static void Fields(Self& f, Visit&& v) {
    v("--host", f.host, "management API address");
    v("--port", f.port, "management API port");
    v("--gateway-host", f.gateway_host, "gateway address (0.0.0.0 to serve other machines)");
    v("--gateway-port", f.gateway_port, "gateway (prediction) port");
    v("--grpc-port", f.grpc_port,
      "gateway port for the Open Inference Protocol over gRPC (0 = none)");
    v("--gateway-threads", f.gateway_threads, "gateway I/O threads");
    ClientLimits::Fields(f.limits, v);
    v("--tick-ms", f.tick_ms, "reconcile period of the operator");
    v("--starting-tick-ms", f.starting_tick_ms,
      "reconcile period while a replica is starting: how soon it is routed once ready");
    v("--drain-ms", f.drain_ms, "how long stopping replicas may finish requests");
    v("--request-timeout-ms", f.request_timeout_ms,
      "default time the gateway gives a request, queueing included (504 after); "
      "networking.timeout overrides it per API");
    v("--ready-timeout-ms", f.ready_timeout_ms,
      "a replica not ready this long after it started is replaced");
    v("--autoscale-ms", f.autoscale_ms, "how often the autoscaler decides each API's replicas");
    v("--sample-ms", f.sample_ms, "how often the gateway samples each API's in-flight requests");
    v("--history-ms", f.history_ms,
      "how often the dashboard's charts are sampled (720 samples per API: an hour at 5000)");
    v("--hold-timeout-ms", f.hold_timeout_ms,
      "how long the gateway holds a request while an API scales up from zero");
    v("--max-held", f.max_held,
      "how many requests per API the gateway holds while it scales up from zero");
    v("--standby", f.standby,
      "keep one replica process with the native runtime loaded for each runtime that APIs with "
      "min_replicas 0 use (libtorch: ~160 MiB), so that scaling them from zero skips loading it "
      "(local backend)");
    v("--tls-cert", f.tls_cert, "PEM certificate chain: gateway and management API speak HTTPS");
    v("--tls-key", f.tls_key, "PEM private key of --tls-cert");
    v("--backend", f.backend, "where replicas run: local (child processes) or kubernetes");
    v("--kubeconfig", f.kubeconfig,
      "kubernetes backend: kubeconfig file (default: the pod's service account)");
    v("--namespace", f.kube_namespace, "kubernetes backend: the namespace of Axon's objects");
    v("--replica-image", f.replica_image, "kubernetes backend: the replicas' image");
    v("--image-pull-policy", f.image_pull_policy,
      "kubernetes backend: IfNotPresent, Never (side-loaded images) or Always");
    v("--bundle-url", f.bundle_url,
      "kubernetes backend: this management API as pods reach it (http://HOST:PORT), where "
      "replicas fetch their bundles");
    v("--gateway", f.gateway,
      "process (the operator runs its gateway) or pods (kubernetes backend: the namespace's "
      "gateway pods get the route tables)");
    v("--gateway-admin-port", f.gateway_admin_port, "--gateway pods: the gateway pods' admin port");
  }
};

// The arguments that make the receiver's Register()ed parser reproduce `flags`.
template <typename Flags>
std::vector<std::string> ToArgs(const Flags& flags) {
  std::vector<std::string> args;
  Flags::Fields(flags, [&](const char* name, const auto& value, const char*) {
    using T = std::decay_t<decltype(value)>;
    args.emplace_back(name);
    if constexpr (std::is_same_v<T, std::string>) {
      args.push_back(value);
    } else if constexpr (std::is_same_v<T, bool>) {
      args.emplace_back(value ? "true" : "false");
    } else {
      args.push_back(std::to_string(value));
    }
  });
  return args;
}

// Adds every field of `flags` as an option of `app` (with its default shown in --help).
// `flags` must outlive the parse.
template <typename Flags>
void Register(CLI::App& app, Flags& flags) {
  Flags::Fields(flags, [&](const char* name, auto& value, const char* help) {
    app.add_option(name, value, help)->capture_default_str();
  });
}

// Parses what ToArgs() made, as the receiver's command line would; the error names the flag.
template <typename Flags>
StatusOr<Flags> FromArgs(const std::vector<std::string>& args) {
  Flags parsed;
  CLI::App app;
  Register(app, parsed);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(e.what());
  }
  return parsed;
}

}  // namespace axon::contract
