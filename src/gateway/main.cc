// axon-gateway: the data plane process. Started and supervised by the operator.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/files.h"
#include "common/log.h"
#include "common/signals.h"
#include "gateway/gateway.h"
#include "gateway/grpc_server.h"
#include "http/server.h"

namespace {

// Records every API's in-flight requests each `period`, on the server's first I/O thread.
axon::http::asio::awaitable<void> SampleInFlight(const axon::gateway::Gateway& gateway,
                                                 std::chrono::milliseconds period) {
  namespace asio = axon::http::asio;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(period);
    axon::http::beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    gateway.SampleInFlight(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-gateway: routes prediction requests to replicas (started by the operator)"};
  axon::http::ServerOptions options;
  options.port = 8888;
  std::string token_file;
  std::string routes_file;
  int drain_ms = 30'000;
  int sample_ms = 1000;
  uint16_t grpc_port = 8890;
  app.add_option("--host", options.host, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "port to listen on (0 = any)")->capture_default_str();
  app.add_option("--grpc-port", grpc_port,
                 "port of the Open Inference Protocol over gRPC (0 = no gRPC)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "I/O threads")->capture_default_str();
  app.add_option("--max-body-bytes", options.max_body_bytes, "largest request body (413 above)")
      ->capture_default_str();
  app.add_option("--token-file", token_file, "file holding the platform token")->required();
  app.add_option("--routes-file", routes_file, "where the route table is persisted");
  app.add_option("--drain-ms", drain_ms, "how long SIGTERM waits for requests in flight")
      ->capture_default_str();
  app.add_option("--sample-ms", sample_ms, "how often in-flight requests are sampled")
      ->capture_default_str()
      ->check(CLI::Range(10, 60'000));
  CLI11_PARSE(app, argc, argv);

  axon::BlockTerminationSignals();
  axon::InitLogging("gateway");
  auto token = axon::ReadFile(token_file);
  if (!token.ok()) {
    spdlog::error("{}", token.status().message());
    return 2;
  }
  axon::gateway::Gateway gateway(*token, routes_file);
  auto server = axon::http::HttpServer::Create(
      options, [&gateway](axon::http::Request& req) { return gateway.Handle(req); });
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  std::unique_ptr<axon::gateway::GrpcServer> grpc;
  if (grpc_port != 0) {
    auto started =
        axon::gateway::GrpcServer::Start(gateway, options.host, grpc_port, options.max_body_bytes);
    if (!started.ok()) {
      spdlog::error("{}", started.status().message());
      return 1;
    }
    grpc = std::move(started).value();
  }
  axon::http::asio::co_spawn((*server)->main_context(),
                             SampleInFlight(gateway, std::chrono::milliseconds(sample_ms)),
                             axon::http::asio::detached);
  (*server)->Start();
  spdlog::info("listening on {}:{} with {} threads{}", options.host, (*server)->port(),
               options.threads,
               grpc ? "; gRPC on port " + std::to_string(grpc_port) : std::string());
  const int sig = axon::WaitForTerminationSignal();
  spdlog::info("signal {}: draining", sig);
  std::thread grpc_drain([&] {
    if (grpc) grpc->Shutdown(std::chrono::milliseconds(drain_ms));
  });
  (*server)->Shutdown(std::chrono::milliseconds(drain_ms));
  (*server)->Wait();
  grpc_drain.join();
  spdlog::info("stopped");
  return 0;
}
