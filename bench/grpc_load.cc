// axon-bench-grpc-load: a load generator for the Open Inference Protocol over gRPC, the gRPC
// counterpart of wrk in bench/run. Keeps --concurrency ModelInfer calls in flight against
// 127.0.0.1:--port for --seconds, each with one FP32 input of shape [1, --features] (values
// i / features, as raw_input_contents), and prints one JSON object:
//   {"requests", "errors", "seconds", "requests_per_s", "latency_ms": {"50", "90", "99"}}.
// One thread drives a completion queue, like wrk's event loop; `errors` counts calls that did
// not end OK.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include "open_inference.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Call {
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
  Clock::time_point started;
};

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100 * sorted.size()));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-bench-grpc-load: ModelInfer calls at a fixed concurrency (127.0.0.1 only)"};
  int port = 0;
  std::string model;
  int concurrency = 1;
  double seconds = 1;
  int features = 64;
  app.add_option("--port", port, "gateway gRPC port")->required();
  app.add_option("--model", model, "model (API) name")->required();
  app.add_option("--concurrency", concurrency, "calls in flight")->check(CLI::Range(1, 4096));
  app.add_option("--seconds", seconds, "how long")->check(CLI::Range(0.1, 600.0));
  app.add_option("--features", features, "input shape [1, N]")->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);

  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* input = request.add_inputs();
  input->set_name("x");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(features);
  std::vector<float> x(static_cast<size_t>(features));
  for (int i = 0; i < features; ++i) x[i] = static_cast<float>(i) / static_cast<float>(features);
  request.add_raw_input_contents(reinterpret_cast<const char*>(x.data()), x.size() * 4);

  grpc::CompletionQueue queue;
  auto start_call = [&] {
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->started = Clock::now();
    call->reader = stub->PrepareAsyncModelInfer(&call->context, request, &queue);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  };
  const auto begin = Clock::now();
  const auto end =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < concurrency; ++i) start_call();
  int in_flight = concurrency;
  std::vector<double> latencies_ms;
  long errors = 0;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    const auto now = Clock::now();
    --in_flight;
    if (!ok || !call->status.ok()) {
      ++errors;
    } else {
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - call->started).count());
    }
    if (now < end) {
      start_call();
      ++in_flight;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const long requests = static_cast<long>(latencies_ms.size()) + errors;
  std::printf(
      "{\"requests\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"requests_per_s\": %.1f, "
      "\"latency_ms\": {\"50\": %.4f, \"90\": %.4f, \"99\": %.4f}}\n",
      requests, errors, elapsed, static_cast<double>(requests) / elapsed,
      Percentile(latencies_ms, 50), Percentile(latencies_ms, 90), Percentile(latencies_ms, 99));
  queue.Shutdown();
  return 0;
}
