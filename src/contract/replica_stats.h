// A replica's batching statistics as the operator reads them (GET /stats on a replica) for
// `axon describe`: how many requests each batch ran and how long requests waited in the
// replica's batch queue, since the replica started. This header is the one definition of that
// JSON. The histograms' bucket bounds are the shared tables of common/histogram.h
// (kBatchSizeBounds, kLatencyBoundsUs), so only counts cross the wire.
//
// Plain values; copy freely. FromJson() never throws.
#pragma once

#include <nlohmann/json.hpp>

#include "common/histogram.h"
#include "common/status.h"

namespace axon::contract {

struct ReplicaStats {
  bool batching = false;  // server_side_batching is on; the histograms are empty without it
  HistogramSnapshot batch_size{.bounds = kBatchSizeBounds,
                               .counts = std::vector<uint64_t>(kBatchSizeBounds.size() + 1),
                               .sum = 0};
  HistogramSnapshot queue_wait_us{.bounds = kLatencyBoundsUs,
                                  .counts = std::vector<uint64_t>(kLatencyBoundsUs.size() + 1),
                                  .sum = 0};
};

nlohmann::json ToJson(const ReplicaStats& stats);
// Fails, naming the field, on a histogram whose counts do not match its table's buckets.
StatusOr<ReplicaStats> ReplicaStatsFromJson(const nlohmann::json& json);

}  // namespace axon::contract
