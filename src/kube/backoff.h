// Waiting between retries: the delays (exponential, capped) and an injectable Sleeper, so
// retry loops run in tests without real waiting.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace axon::kube {

struct Backoff {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;
  // The delay before retry number `failures` (1 = the first retry): initial * factor^(n-1),
  // at most `max`.
  std::chrono::milliseconds Delay(int failures) const;
};

// Waits, and can be woken early. Thread-safe.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits `d`; returns false when Wake() was called (before or during the wait), so the
  // caller should stop.
  virtual bool Sleep(std::chrono::milliseconds d) = 0;
  // Makes the current and every later Sleep() return false at once.
  virtual void Wake() = 0;
};

// Sleeps for real (a condition variable with a timeout).
class RealSleeper final : public Sleeper {
 public:
  bool Sleep(std::chrono::milliseconds d) override;
  void Wake() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
};

}  // namespace axon::kube
