// Waiting in tests for something another thread does, bounded in time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace axon::kube::testing {

// Polls `condition` every millisecond for at most `limit`; returns its last value.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace axon::kube::testing
