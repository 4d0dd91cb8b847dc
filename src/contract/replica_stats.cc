#include "contract/replica_stats.h"

#include <string>

#include "contract/json_fields.h"

namespace axon::contract {
namespace {

using json = nlohmann::json;

json HistogramToJson(const HistogramSnapshot& h) { return {{"counts", h.counts}, {"sum", h.sum}}; }

// Reads the counts of `key` into `out`, whose bounds are already set.
void ReadHistogram(FieldReader& reader, const json& j, const char* key, HistogramSnapshot* out) {
  const auto it = j.find(key);
  if (it == j.end()) return;  // none: empty
  FieldReader f(*it, reader.Where(key));
  out->sum = static_cast<uint64_t>(f.Int("sum", 0, false, 0));
  const json& counts = f.Array("counts");
  if (!f.status().ok()) return reader.Fail(f.status());
  if (counts.size() != out->bounds.size() + 1) {
    return reader.Fail(InvalidArgument(f.Where("counts") + " must have " +
                                       std::to_string(out->bounds.size() + 1) + " buckets"));
  }
  out->counts.clear();
  for (const json& n : counts) {
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<int64_t>() >= 0)) {
      return reader.Fail(InvalidArgument(f.Where("counts") + " must hold counts (integers >= 0)"));
    }
    out->counts.push_back(n.get<uint64_t>());
  }
}

}  // namespace

json ToJson(const ReplicaStats& stats) {
  return {{"batching", stats.batching},
          {"batch_size", HistogramToJson(stats.batch_size)},
          {"queue_wait_us", HistogramToJson(stats.queue_wait_us)}};
}

StatusOr<ReplicaStats> ReplicaStatsFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("replica stats must be a JSON object");
  FieldReader f(j, "stats");
  ReplicaStats s;
  s.batching = f.Bool("batching", false);
  ReadHistogram(f, j, "batch_size", &s.batch_size);
  ReadHistogram(f, j, "queue_wait_us", &s.queue_wait_us);
  if (!f.status().ok()) return f.status();
  return s;
}

}  // namespace axon::contract
