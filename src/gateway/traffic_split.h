// A TrafficSplitter's choice of API for each request. Built once per route table from the
// operator's split entries (contract::SplitRoute); immutable after that.
//
// The choice is not random: a schedule of 100 slots gives each API exactly its weight in every
// 100 consecutive requests, interleaved (smooth weighted round-robin: 90/10 sends one request in
// ten to the second API, not ten in a row), and a second schedule spreads the shadow's copies
// the same way. A counter that the splitter keeps across route tables walks both, so a new
// table (a replica that became ready somewhere) does not restart the cycle.
//
// Threading: Choose() may be called from any number of threads at once (one atomic add).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "contract/routes.h"

namespace axon::gateway {

class TrafficSplit {
 public:
  static constexpr int kSlots = 100;

  // `split` as the contract checked it: the non-shadow weights sum to 100, at most one shadow.
  explicit TrafficSplit(const std::vector<contract::SplitRoute>& split);

  struct Choice {
    size_t primary = 0;            // index into the split entries
    std::optional<size_t> shadow;  // the shadow's index, when this request is copied to it
  };
  // The next request's APIs; advances `counter`.
  Choice Choose(std::atomic<uint64_t>& counter) const;

 private:
  std::array<uint8_t, kSlots> primary_{};  // slot -> index of the API that gets the request
  std::array<bool, kSlots> copied_{};      // slot -> whether the shadow gets a copy
  std::optional<size_t> shadow_;
};

}  // namespace axon::gateway
