#include "operator/replica_scrape.h"

#include <algorithm>
#include <future>

namespace axon::operator_ {
namespace {

// Threads at once: replicas that hang cost about one timeout per this many.
constexpr size_t kParallel = 16;

}  // namespace

std::optional<http::Peer> ReplicaPeer(const ReplicaStatus& replica) {
  if (replica.port == 0 && replica.socket.empty()) return std::nullopt;
  return http::Peer{.host = replica.host.empty() ? "127.0.0.1" : replica.host,
                    .port = replica.port,
                    .unix_socket = replica.socket};
}

std::vector<std::string> FetchFromReplicas(const std::vector<http::Peer>& replicas,
                                           std::string_view path,
                                           std::chrono::milliseconds timeout) {
  std::vector<std::string> bodies;
  bodies.reserve(replicas.size());
  for (size_t wave = 0; wave < replicas.size(); wave += kParallel) {
    std::vector<std::future<std::string>> fetches;
    for (size_t i = wave; i < std::min(replicas.size(), wave + kParallel); ++i) {
      fetches.push_back(std::async(std::launch::async, [&peer = replicas[i], path, timeout] {
        auto res = http::Fetch(peer, http::MakeRequest(http::bhttp::verb::get, std::string(path)),
                               timeout);
        return res.ok() && res->result_int() == 200 ? res->body() : std::string();
      }));
    }
    for (auto& fetch : fetches) bodies.push_back(fetch.get());
  }
  return bodies;
}

}  // namespace axon::operator_
