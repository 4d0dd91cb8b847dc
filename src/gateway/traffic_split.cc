#include "gateway/traffic_split.h"

namespace axon::gateway {

TrafficSplit::TrafficSplit(const std::vector<contract::SplitRoute>& split) {
  // Smooth weighted round-robin over one cycle of kSlots: each slot, every API gains its weight
  // and the one with the most credit takes the slot and pays kSlots. With weights summing to
  // kSlots, each API takes exactly `weight` slots of the cycle, spread out.
  std::vector<int64_t> credit(split.size(), 0);
  for (int slot = 0; slot < kSlots; ++slot) {
    size_t best = 0;
    bool found = false;
    for (size_t i = 0; i < split.size(); ++i) {
      if (split[i].shadow) continue;
      credit[i] += split[i].weight;
      if (!found || credit[i] > credit[best]) {
        best = i;
        found = true;
      }
    }
    credit[best] -= kSlots;
    primary_[slot] = static_cast<uint8_t>(best);
  }
  for (size_t i = 0; i < split.size(); ++i) {
    if (!split[i].shadow) continue;
    shadow_ = i;
    // Copy at the slots where floor(slot * weight / kSlots) steps up: `weight` evenly spaced.
    const int64_t w = split[i].weight;
    for (int slot = 0; slot < kSlots; ++slot) {
      copied_[slot] = (slot + 1) * w / kSlots > slot * w / kSlots;
    }
  }
}

TrafficSplit::Choice TrafficSplit::Choose(std::atomic<uint64_t>& counter) const {
  const auto slot = static_cast<size_t>(counter.fetch_add(1, std::memory_order_relaxed) % kSlots);
  Choice choice{.primary = primary_[slot]};
  if (shadow_ && copied_[slot]) choice.shadow = shadow_;
  return choice;
}

}  // namespace axon::gateway
