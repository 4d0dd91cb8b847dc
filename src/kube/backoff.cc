#include "kube/backoff.h"

#include <cmath>

namespace axon::kube {

std::chrono::milliseconds Backoff::Delay(int failures) const {
  if (failures < 1) return std::chrono::milliseconds(0);
  const double ms = static_cast<double>(initial.count()) * std::pow(factor, failures - 1);
  if (ms >= static_cast<double>(max.count())) return max;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

bool RealSleeper::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return woken_; });
}

void RealSleeper::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

}  // namespace axon::kube
