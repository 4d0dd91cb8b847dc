// Asking every replica of the platform the same question at once: the operator's aggregated
// `GET /metrics` and `axon describe`'s batching figures (contract/replica_stats.h) read each
// replica over HTTP. Stateless; thread-safe. FetchFromReplicas() blocks (network I/O): call it
// without holding the controller's locks.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.h"
#include "operator/api_backend.h"

namespace axon::operator_ {

// Where to reach `replica`, or nullopt when it has no address yet.
std::optional<http::Peer> ReplicaPeer(const ReplicaStatus& replica);

// GET `path` on each of `replicas` in parallel (a thread each, at most 16 at once), each bounded
// by `timeout`. The bodies of 200 answers, in the order of `replicas`; "" for a replica that
// failed or did not answer in time.
std::vector<std::string> FetchFromReplicas(const std::vector<http::Peer>& replicas,
                                           std::string_view path,
                                           std::chrono::milliseconds timeout);

}  // namespace axon::operator_
