// Fuzzes the gateway's request handling: the input is the byte stream a client sends on one
// keep-alive connection. It is cut into requests by Beast's request parser with the limits
// HttpServer uses, and each request goes through gateway::Gateway::Handle (paths under
// /_axon/ through Gateway::HandleAdmin, as on the admin listener), driven on an io_context
// until it answers (at most kHandleBound; longer counts as a hang).
//
// The route table (reset for every input) has an API whose replicas answer (a fake replica on
// an abstract Unix socket, served by a thread of this process), one whose replicas refuse
// connections, one whose replica never answers, one with a single slot and no queue, one
// updating and one scaled to zero. Admin requests carry the token when the input says
// "Authorization: Bearer fuzz-token"; a route table PUT by the input stays for the rest of the
// input only if every replica is one of those abstract sockets and its timeouts are short, so
// the run never connects anywhere else and never waits long.
//
// Checked besides the sanitizers: no exception escapes Handle, every answer is JSON with a
// status code in [100, 599] and serializes, and prediction answers carry the request id.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>

#include "contract/routes.h"
#include "gateway/gateway.h"
#include "http/responses.h"
#include "http/server.h"

namespace {

namespace asio = axon::http::asio;
namespace beast = axon::http::beast;
namespace bhttp = axon::http::bhttp;
using axon::http::local_stream;
using axon::http::Request;
using axon::http::Response;

constexpr char kToken[] = "fuzz-token";
constexpr size_t kMaxRequestsPerInput = 8;
constexpr auto kHandleBound = std::chrono::seconds(2);
// A route table PUT by the input is kept only within these bounds (see above).
constexpr auto kMaxKeptTimeout = std::chrono::milliseconds(200);
constexpr auto kMaxKeptHold = std::chrono::milliseconds(20);
constexpr std::string_view kSocketPrefix = "@axon-fuzz-";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "gateway_request: %s\n", what.c_str());
  std::abort();
}

// Reads requests and, if `answers`, answers each with a small V1 prediction (or metadata);
// otherwise reads on until the gateway gives up and closes the connection.
asio::awaitable<void> ServeReplica(local_stream::socket socket, bool answers) {
  beast::flat_buffer buffer;
  for (;;) {
    Request request;
    beast::error_code ec;
    co_await bhttp::async_read(socket, buffer, request,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (!answers) continue;
    Response response{bhttp::status::ok, request.version()};
    response.set(bhttp::field::content_type, "application/json");
    response.body() = request.target().starts_with("/metadata")
                          ? R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 4]}]})"
                          : R"({"predictions": [[0.25, 0.75]]})";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    co_await bhttp::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) co_return;
  }
}

asio::awaitable<void> AcceptReplicaConnections(local_stream::acceptor& acceptor, bool answers) {
  for (;;) {
    beast::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), ServeReplica(std::move(socket), answers),
                   asio::detached);
  }
}

// The fake replicas: a thread of their own, like replica processes; they live until exit.
class FakeReplicas {
 public:
  FakeReplicas()
      : prefix_(std::string(kSocketPrefix) + std::to_string(::getpid()) + "-"),
        answering_(io_, axon::http::LocalEndpoint(answering_name())),
        silent_(io_, axon::http::LocalEndpoint(silent_name())) {
    asio::co_spawn(io_, AcceptReplicaConnections(answering_, true), asio::detached);
    asio::co_spawn(io_, AcceptReplicaConnections(silent_, false), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    thread_.detach();
  }
  std::string answering_name() const { return prefix_ + "ok"; }
  std::string silent_name() const { return prefix_ + "silent"; }
  std::string refusing_name() const { return prefix_ + "gone"; }  // nobody listens there

 private:
  const std::string prefix_;
  asio::io_context io_;
  local_stream::acceptor answering_;
  local_stream::acceptor silent_;
  std::thread thread_;
};

nlohmann::json Replica(const std::string& id, const std::string& socket) {
  return {{"id", id}, {"host", "127.0.0.1"}, {"port", 9}, {"socket", socket}};
}

nlohmann::json BaseRoutes(const FakeReplicas& replicas) {
  using nlohmann::json;
  const std::string ok = replicas.answering_name();
  const std::string gone = replicas.refusing_name();
  json live = {{"name", "live"},
               {"endpoint", "/live"},
               {"max_replica_concurrency", 8},
               {"timeout_ms", 1000},
               {"status", "live"},
               {"replicas", {Replica("live-1", ok), Replica("live-2", ok)}}};
  json gone_api = {{"name", "gone"},
                   {"endpoint", "/gone"},
                   {"timeout_ms", 1000},
                   {"status", "live"},
                   {"replicas", {Replica("gone-1", gone), Replica("gone-2", gone)}}};
  json slow = {{"name", "slow"},
               {"endpoint", "/slow"},
               {"timeout_ms", 5},
               {"status", "live"},
               {"replicas", {Replica("slow-1", replicas.silent_name())}}};
  // One slot and no queue: while a request waits on its silent replica, others get 503.
  json busy = {{"name", "busy"},
               {"endpoint", "/busy"},
               {"max_replica_concurrency", 1},
               {"max_queue_length", 0},
               {"timeout_ms", 5},
               {"status", "live"},
               {"replicas", {Replica("busy-1", replicas.silent_name())}}};
  // Held for a replica at most 1 ms (the default, 60 s, would outlast kHandleBound).
  json updating = {{"name", "updating"},
                   {"endpoint", "/updating"},
                   {"status", "updating"},
                   {"hold_timeout_ms", 1},
                   {"replicas", json::array()}};
  json asleep = {{"name", "asleep"},     {"endpoint", "/asleep"}, {"status", "scaled to zero"},
                 {"hold_timeout_ms", 1}, {"max_held", 2},         {"replicas", json::array()}};
  // An endpoint that itself ends in /metadata.
  json meta = {{"name", "meta"},
               {"endpoint", "/v1/metadata"},
               {"status", "live"},
               {"timeout_ms", 1000},
               {"replicas", {Replica("meta-1", ok)}}};
  return {{"apis", {live, gone_api, slow, busy, updating, asleep, meta}}};
}

// Whether a route table the input PUT may stay: only the fake replicas' abstract sockets and
// short timeouts.
bool SafeToKeep(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return true;  // rejected: the table did not change
  const auto routes = axon::contract::RouteTableFromJson(json);
  if (!routes.ok()) return true;
  const std::string prefix(kSocketPrefix);
  for (const auto& api : routes->apis) {
    if (std::chrono::milliseconds(api.timeout_ms) > kMaxKeptTimeout) return false;
    if (std::chrono::milliseconds(api.hold_timeout_ms) > kMaxKeptHold) return false;
    for (const auto& replica : api.replicas) {
      if (!replica.socket.starts_with(prefix)) return false;
    }
  }
  return true;
}

axon::contract::RouteTable ParseRoutes(const nlohmann::json& json) {
  auto routes = axon::contract::RouteTableFromJson(json);
  if (!routes.ok()) Fail("the base route table does not parse: " + routes.status().message());
  return *routes;
}

struct Harness {
  FakeReplicas replicas;
  axon::contract::RouteTable base_routes = ParseRoutes(BaseRoutes(replicas));
  axon::gateway::Gateway gateway{kToken, ""};
  asio::io_context io;
  // AXON_FUZZ_TRACE=1 prints every request and its answer (to see what an input does).
  const bool trace = std::getenv("AXON_FUZZ_TRACE") != nullptr;

  void ResetRoutes() {
    if (axon::Status s = gateway.SetRoutes(base_routes); !s.ok()) {
      Fail("the base route table is rejected: " + s.message());
    }
  }
};

Harness& TheHarness() {
  static Harness* harness = new Harness();  // lives until exit, with its replica thread
  return *harness;
}

// The next request of the connection's bytes, parsed as HttpServer reads one; false at the end
// of the bytes or on a malformed request (the server answers 400 or 413 and closes).
bool NextRequest(std::string_view& bytes, Request& out) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(axon::http::ServerOptions{}.max_body_bytes);
  parser.eager(true);
  while (!parser.is_done()) {
    beast::error_code ec;
    const size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == bhttp::error::need_more && used > 0 && !bytes.empty()) continue;
    if (ec || used == 0) return false;
  }
  out = parser.release();
  return true;
}

asio::awaitable<void> HandleOne(axon::gateway::Gateway& gateway, Request& request,
                                Response& response) {
  const bool admin = axon::http::TargetPath(request.target()).starts_with("/_axon/");
  response = admin ? co_await gateway.HandleAdmin(request) : co_await gateway.Handle(request);
}

void CheckResponse(const Response& response, std::string_view path,
                   std::string_view client_request_id, const Request& request) {
  const unsigned status = response.result_int();
  if (status < 100 || status > 599) Fail("status code " + std::to_string(status));
  const auto body = nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) Fail("answer " + std::to_string(status) + " is not JSON");
  if (!path.starts_with("/_axon/")) {
    const auto id = response["X-Request-ID"];
    if (id.empty()) Fail("answer without X-Request-ID");
    if (!client_request_id.empty() && id != client_request_id) Fail("request id not kept");
  }
  // As HttpServer::Reply sends it.
  Response copy = response;
  copy.version(request.version());
  copy.keep_alive(request.keep_alive());
  copy.prepare_payload();
  std::ostringstream wire;
  wire << copy;
  if (wire.str().empty()) Fail("answer does not serialize");
}

// Handles one request to the end; returns false when the server would close the connection.
bool HandleRequest(Harness& h, Request& request) {
  const std::string path(axon::http::TargetPath(request.target()));
  const std::string client_request_id(request["X-Request-ID"]);
  const std::string body = request.body();
  const bool keep_alive = request.keep_alive();
  const bool puts_routes = request.method() == bhttp::verb::put && path == "/_axon/routes";
  Response response;
  bool finished = false;
  std::exception_ptr error;
  asio::co_spawn(h.io, HandleOne(h.gateway, request, response), [&](std::exception_ptr e) {
    error = e;
    finished = true;
  });
  h.io.restart();
  h.io.run_for(kHandleBound);
  if (!finished) Fail("Gateway::Handle did not answer " + path + " within 2 s");
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      Fail("exception escaped Gateway::Handle for " + path + ": " + e.what());
    }
  }
  CheckResponse(response, path, client_request_id, request);
  if (h.trace) {
    std::fprintf(stderr, "%s %s -> %u %s\n", std::string(request.method_string()).c_str(),
                 path.c_str(), response.result_int(), response.body().c_str());
  }
  if (puts_routes && !SafeToKeep(body)) h.ResetRoutes();
  return keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  TheHarness().ResetRoutes();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = TheHarness();
  h.ResetRoutes();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (size_t n = 0; n < kMaxRequestsPerInput; ++n) {
    Request request;
    if (!NextRequest(bytes, request) || !HandleRequest(h, request)) break;
  }
  return 0;
}
