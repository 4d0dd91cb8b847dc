// The HTTP limit of the machine: Axon's own HTTP server answering every request with a fixed
// body and no other work. Used by bench/run as the upper bound for any path.
#include <iostream>

#include "common/signals.h"
#include "http/responses.h"
#include "http/server.h"

int main(int argc, char** argv) {
  axon::http::ServerOptions options;
  options.port = argc > 1 ? static_cast<uint16_t>(std::stoi(argv[1])) : 0;
  options.threads = argc > 2 ? std::stoi(argv[2]) : 2;
  axon::BlockTerminationSignals();
  auto server = axon::http::HttpServer::Create(
      options, [](axon::http::Request&) -> axon::http::asio::awaitable<axon::http::Response> {
        co_return axon::http::TextResponse(200, R"({"ok":true})", "application/json");
      });
  if (!server.ok()) {
    std::cerr << server.status().message() << "\n";
    return 1;
  }
  (*server)->Start();
  std::cout << (*server)->port() << std::endl;
  axon::WaitForTerminationSignal();
  (*server)->Shutdown(std::chrono::milliseconds(100));
  (*server)->Wait();
  return 0;
}
