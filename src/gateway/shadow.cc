// Gateway::SendShadow and ShadowExchange: a TrafficSplitter's copies to its shadow API.
#include <spdlog/spdlog.h>

#include "gateway/gateway.h"

namespace axon::gateway {
namespace {

namespace asio = http::asio;

// Gives back the copy's place among the splitter's shadow copies in flight, however the
// exchange ends.
struct ShadowSlot {
  std::shared_ptr<ApiShared> splitter;
  ~ShadowSlot() { splitter->shadow_in_flight.fetch_sub(1, std::memory_order_relaxed); }
};

void CountDropped(const ApiShared& splitter, const ApiRoute& shadow, const char* why) {
  const uint64_t dropped = splitter.shadow_dropped.load(std::memory_order_relaxed);
  if ((dropped & (dropped - 1)) == 0) {  // the 1st, 2nd, 4th, 8th... drop: no log flood
    spdlog::warn("shadow api {}: {} copies dropped so far ({})", shadow.name(), dropped, why);
  }
}

}  // namespace

void Gateway::SendShadow(std::shared_ptr<const RouteTable> table, const ApiRoute& shadow,
                         std::shared_ptr<ApiShared> splitter, const http::Request& request,
                         const std::string& request_id, const asio::any_io_executor& executor) {
  if (splitter->shadow_in_flight.fetch_add(1, std::memory_order_relaxed) >=
      ApiShared::kMaxShadowInFlight) {
    splitter->shadow_in_flight.fetch_sub(1, std::memory_order_relaxed);
    splitter->shadow_dropped.fetch_add(1, std::memory_order_relaxed);
    CountDropped(*splitter, shadow, "too many copies on their way");
    return;
  }
  // Runs on this I/O thread once the primary request next waits; nothing waits for it.
  asio::co_spawn(executor,
                 ShadowExchange(std::move(table), shadow, std::move(splitter), request, request_id),
                 asio::detached);
}

asio::awaitable<void> Gateway::ShadowExchange(std::shared_ptr<const RouteTable> table,
                                              const ApiRoute& shadow,
                                              std::shared_ptr<ApiShared> splitter,
                                              http::Request request, std::string request_id) {
  const ShadowSlot slot{splitter};
  const auto start = std::chrono::steady_clock::now();
  ReplicaTarget* replica = shadow.AcquireReplica();
  if (replica == nullptr) {  // a copy never waits for a replica
    splitter->shadow_dropped.fetch_add(1, std::memory_order_relaxed);
    CountDropped(*splitter, shadow, "no free replica");
    co_return;
  }
  const http::Response response =
      co_await Forward(shadow, replica, ThreadUpstreams(*table), request, request_id, "/predict",
                       /*writer=*/nullptr);  // a copy's answer is read whole
  shadow.shared->stats.Record(response.result_int(),
                              std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start),
                              replica->responses);
}

}  // namespace axon::gateway
