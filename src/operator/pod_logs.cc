#include "operator/pod_logs.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "common/log_line.h"
#include "kube/manifests.h"
#include "kube/resource.h"

namespace axon::operator_ {
namespace {

using Json = nlohmann::json;

struct StampedLine {
  int64_t ns = 0;         // the kubelet's stamp (or the one before it in the pod)
  std::string_view text;  // without the stamp and its '\n'
};

// What the kubelet answers (200, unstamped) for a pod whose container, and its log, are gone
// while the pod is still listed (terminating).
constexpr std::string_view kNoContainerLog = "unable to retrieve container logs for ";

// A tail query: the last lines, rather than the lines after a cursor.
bool IsTail(const LogQuery& query) { return query.offset < 0 && query.after_ns <= 0; }

// Appends the lines of one pod's `text` to `out`; returns the stamp of its last line (0 if it
// has none). A truncated text ends at its last '\n' (unless it has none: a line longer than
// the limit is given as far as it was read).
int64_t AddPodLines(std::string_view text, bool truncated, std::vector<StampedLine>* out) {
  if (truncated) {
    const size_t last = text.rfind('\n');
    if (last != std::string_view::npos) text = text.substr(0, last + 1);
  }
  int64_t ns = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const size_t space = line.find(' ');
    if (const auto stamp = ParseUtcTimeNs(line.substr(0, space));
        stamp && space != std::string_view::npos) {
      ns = *stamp;
      line.remove_prefix(space + 1);
    } else if (line.starts_with(kNoContainerLog)) {
      continue;  // the kubelet's own words, not a line of the replica's
    }
    out->push_back({ns, line});
  }
  return ns;
}

}  // namespace

Json MergePodLogs(const std::vector<PodLogText>& pods, const LogQuery& query) {
  std::vector<StampedLine> lines;
  int64_t cutoff = std::numeric_limits<int64_t>::max();  // the truncated pods' last stamp
  for (const PodLogText& pod : pods) {
    if (!query.replica.empty() && pod.pod != query.replica) continue;
    const int64_t last = AddPodLines(pod.text, pod.truncated, &lines);
    // A truncated pod caps what the others give, so that its later lines are not skipped;
    // unless it has nothing after the cursor (over limit_bytes of lines within the cursor's
    // millisecond), which would hold every pod back for good.
    if (pod.truncated && last > query.after_ns) cutoff = std::min(cutoff, last);
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const StampedLine& a, const StampedLine& b) { return a.ns < b.ns; });
  const int64_t since_ns = query.since_ms > 0 ? query.since_ms * 1'000'000 : 0;
  const auto kept = [&](const StampedLine& l) {
    return (query.after_ns <= 0 || l.ns > query.after_ns) && l.ns >= since_ns && l.ns <= cutoff;
  };
  lines.erase(std::remove_if(lines.begin(), lines.end(), [&](const auto& l) { return !kept(l); }),
              lines.end());
  const int64_t newest = lines.empty() ? query.after_ns : lines.back().ns;
  auto first = lines.begin();
  if (IsTail(query)) {
    const auto tail = static_cast<size_t>(std::max<int64_t>(query.tail, 0));
    if (lines.size() > tail) first = lines.end() - static_cast<std::ptrdiff_t>(tail);
  }
  std::string text;
  for (auto l = first; l != lines.end(); ++l) {
    text.append(l->text);
    text += '\n';
  }
  return {{"text", std::move(text)},
          {"next", newest > 0 ? "after_ns=" + std::to_string(newest) : std::string("from=start")},
          {"more", cutoff != std::numeric_limits<int64_t>::max()}};
}

PodLogs::PodLogs(PodLogsOptions options, kube::Client& client)
    : options_(std::move(options)), client_(client) {}

StatusOr<Json> PodLogs::Read(const std::string& api, const LogQuery& query) const {
  if (!query.job.empty()) {
    return InvalidArgument("jobs do not run on Kubernetes: api " + api +
                           " has no job logs there; leave out the job id");
  }
  const kube::ResourceKind pod_kind = *kube::FindKind("v1", "Pod");
  auto list = client_.List(kube::CollectionPath(pod_kind, options_.ns),
                           {.label_selector = kube::ReplicaSelector(api)});
  if (!list.ok()) {
    return Unavailable("cannot list the pods of api " + api + ": " + list.status().message());
  }
  std::vector<std::string> names;
  for (const Json& pod : list->items) {
    const std::string name = pod.value("metadata", Json::object()).value("name", "");
    if (!name.empty() && (query.replica.empty() || name == query.replica)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());

  std::vector<std::pair<std::string, std::string>> params = {
      {"container", kube::kReplicaContainer},
      {"timestamps", "true"},
      {"limitBytes", std::to_string(options_.limit_bytes)}};
  // A tail of 0 still reads the last line, for the cursor to start from.
  if (IsTail(query))
    params.emplace_back("tailLines", std::to_string(std::max<int64_t>(query.tail, 1)));
  // sinceTime in ms (the kubelet keeps lines stamped at or after it; MergePodLogs the rest).
  const int64_t since_ms = std::max(query.after_ns / 1'000'000, query.since_ms);
  if (since_ms > 0) params.emplace_back("sinceTime", FormatLogTime(since_ms));
  const std::string query_string = kube::QueryString(params);

  std::vector<PodLogText> logs;
  for (const std::string& name : names) {
    const std::string target = kube::ObjectPath(pod_kind, options_.ns, name) + "/log";
    auto response = client_.Send(http::bhttp::verb::get, target + query_string);
    if (!response.ok()) {
      return Unavailable("cannot read the log of pod " + name + ": " + response.status().message());
    }
    if (response->code == 401 || response->code == 403) {
      const Status refused =
          kube::ToStatus("GET " + target, kube::ParseApiStatus(response->code, response->body));
      return Unavailable(refused.message());
    }
    if (!response->ok()) continue;  // not started yet (400), gone (404), its node away (5xx)
    const bool truncated = static_cast<int64_t>(response->body.size()) >= options_.limit_bytes;
    logs.push_back({name, std::move(response->body), truncated});
  }
  return MergePodLogs(logs, query);
}

}  // namespace axon::operator_
