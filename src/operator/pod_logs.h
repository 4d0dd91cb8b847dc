// Reading an API's log for `GET /v1/apis/NAME/logs` (`axon logs`) when its replicas are pods:
// the pods labelled as the API's replicas (kube::ReplicaSelector) are listed, and each one's
// replica container log is read through the API server (`GET .../pods/POD/log`, with the
// kubelet's timestamps), then merged into one answer of ReadApiLog's shape (api_logs.h).
//
// What a read covers: the current container of each pod that exists now. Not the previous
// container's log after a restart, not pods already gone, and not the gateway's request lines
// (they are in the gateway pods' logs). A pod whose log cannot be read yet (being created:
// 400 "waiting to start") or any more (deleted meanwhile: 404) is left out.
//
// The cursor: `next` is "after_ns=T", T the kubelet's stamp of the newest line read, so a
// follower reads only lines stamped after it (two lines of one pod stamped with the same
// nanosecond across two reads would lose the second; the kubelet stamps each line apart).
//
// MergePodLogs is a pure function; thread-safe. PodLogs holds a reference to the Client, which
// must outlive it; Read() may be called from any thread at once (each call blocks on its own
// calls to the API server, one list and one read per pod, in turn).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kube/client.h"
#include "operator/api_logs.h"

namespace axon::operator_ {

// One pod's log as the kubelet serves it with timestamps=true: each line
// "2026-12-02T07:49:12.123456789Z <the line as the container wrote it>\n".
struct PodLogText {
  std::string pod;  // the pod's name: the replica id (ReplicaFromPod in pod_status.h)
  std::string text;
  bool truncated = false;  // cut at limitBytes: lines after the last whole one were not read
};

// The lines of `pods` as one answer: {"text": the lines without the kubelet's stamp, oldest
// first across pods, "next": "after_ns=T" (T the newest stamp read; the query's own after_ns,
// or "from=start", when no line was read), "more": whether a truncated pod has lines after
// the ones given}. Honours the query's replica (a pod name), since_ms, after_ns (only lines
// stamped after it) and, for a tail query (no offset, no after_ns), tail over all pods. A line
// without a stamp keeps the time of the line before it in its pod. With a truncated pod, only
// lines up to that pod's last whole line are given (the rest follow from `next`).
nlohmann::json MergePodLogs(const std::vector<PodLogText>& pods, const LogQuery& query);

struct PodLogsOptions {
  std::string ns;                 // the namespace of the replica pods
  int64_t limit_bytes = 1 << 20;  // per pod and read (limitBytes)
};

class PodLogs {
 public:
  PodLogs(PodLogsOptions options, kube::Client& client);

  // The log of API `api` (MergePodLogs). A job query is refused (jobs do not run on
  // Kubernetes); a pod list the API server refuses is kUnavailable with its message, and so
  // is a read it refuses for lack of rights (401, 403).
  StatusOr<nlohmann::json> Read(const std::string& api, const LogQuery& query) const;

 private:
  const PodLogsOptions options_;
  kube::Client& client_;
};

}  // namespace axon::operator_
