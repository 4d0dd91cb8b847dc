// axon-gateway: the data plane process. Started and supervised by the operator, with the flags
// of contract::GatewayFlags.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/files.h"
#include "common/log.h"
#include "common/signals.h"
#include "contract/flags.h"
#include "gateway/gateway.h"
#include "gateway/grpc_server.h"
#include "http/client.h"
#include "http/server.h"

namespace {

namespace asio = axon::http::asio;

// Records every API's in-flight requests each `period`, on the server's first I/O thread.
asio::awaitable<void> SampleInFlight(const axon::gateway::Gateway& gateway,
                                     std::chrono::milliseconds period) {
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

// The admin listener's options: a Unix socket, or host:port.
axon::StatusOr<axon::http::ServerOptions> AdminOptions(const axon::contract::GatewayFlags& f) {
  auto peer = axon::http::PeerFromListenAddress(f.admin_listen);
  if (!peer.ok()) return peer.status();
  axon::http::ServerOptions options{.host = peer->host, .port = peer->port, .threads = 1};
  options.listen_tcp = peer->unix_socket.empty();
  options.unix_socket = peer->unix_socket;
  options.max_body_bytes = 256 * 1024 * 1024;  // route tables of many APIs
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"axon-gateway: routes prediction requests to replicas (started by the operator)"};
  axon::contract::GatewayFlags flags;
  axon::contract::Register(app, flags);
  CLI11_PARSE(app, argc, argv);

  axon::BlockTerminationSignals();
  axon::InitLogging({.source = "gateway"});
  if (flags.token_file.empty() || flags.admin_listen.empty() || flags.sample_ms < 10) {
    spdlog::error("--token-file and --admin-listen are required; --sample-ms at least 10");
    return 2;
  }
  auto token = axon::ReadFile(flags.token_file);
  if (!token.ok()) {
    spdlog::error("{}", token.status().message());
    return 2;
  }
  axon::gateway::Gateway gateway(*token, flags.routes_file);
  const axon::http::ServerOptions options{
      .host = flags.host,
      .port = flags.port,
      .threads = flags.threads,
      .max_body_bytes = flags.limits.max_body_bytes,
      .max_header_bytes = flags.limits.max_header_bytes,
      .header_timeout = std::chrono::milliseconds(flags.limits.header_timeout_ms),
      .idle_timeout = std::chrono::milliseconds(flags.limits.idle_timeout_ms),
      .tls_cert_file = flags.tls_cert,
      .tls_key_file = flags.tls_key};
  auto server = axon::http::HttpServer::Create(
      options, [&gateway](axon::http::Request& req, axon::http::BodyWriter& writer) {
        return gateway.Handle(req, &writer);
      });
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  auto admin_options = AdminOptions(flags);
  if (!admin_options.ok()) {
    spdlog::error("--admin-listen: {}", admin_options.status().message());
    return 2;
  }
  auto admin = axon::http::HttpServer::Create(
      *admin_options, [&gateway](axon::http::Request& req) { return gateway.HandleAdmin(req); });
  if (!admin.ok()) {
    spdlog::error("{}", admin.status().message());
    return 1;
  }
  std::unique_ptr<axon::gateway::GrpcServer> grpc;
  if (flags.grpc_port != 0) {
    auto started = axon::gateway::GrpcServer::Start(gateway, flags.host, flags.grpc_port,
                                                    flags.limits.max_body_bytes);
    if (!started.ok()) {
      spdlog::error("{}", started.status().message());
      return 1;
    }
    grpc = std::move(started).value();
  }
  asio::co_spawn((*server)->main_context(),
                 SampleInFlight(gateway, std::chrono::milliseconds(flags.sample_ms)),
                 asio::detached);
  (*server)->Start();
  (*admin)->Start();
  spdlog::info("listening on {}{}:{} with {} threads; admin on {}{}",
               flags.tls_cert.empty() ? "" : "https://", flags.host, (*server)->port(),
               flags.threads, flags.admin_listen,
               grpc ? "; gRPC on port " + std::to_string(grpc->port()) : std::string());
  const int sig = axon::WaitForTerminationSignal();
  spdlog::info("signal {}: draining", sig);
  const auto drain = std::chrono::milliseconds(flags.drain_ms);
  std::thread grpc_drain([&] {
    if (grpc) grpc->Shutdown(drain);
  });
  (*server)->Shutdown(drain);
  (*admin)->Shutdown(std::chrono::milliseconds(0));
  (*server)->Wait();
  (*admin)->Wait();
  grpc_drain.join();
  spdlog::info("stopped");
  return 0;
}
