// The body of a job submission (POST /<endpoint> of a BatchAPI or TaskAPI), checked and cut
// into the job's work items. Pure functions (they read the delimited files they are given);
// thread-safe.
//
// BatchAPI: {"workers": 1..max_workers (1), "item_list": {"items": [...], "batch_size": N (1)}
//            | "delimited_files": {"paths": ["a.jsonl", ...], "batch_size": N (1)},
//            "config": {...}, "timeout": seconds}
//   A delimited file holds one JSON value per line (blank lines are skipped); its path is
//   relative to `files_root` (the API's bundle: the folder of its spec) and may not leave it.
// TaskAPI:  {"config": {...}, "timeout": seconds}; one work item, one worker.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace axon::operator_ {

struct JobLimits {
  int64_t max_workers = 100;
  int64_t max_batches = 100'000;
  uint64_t max_file_bytes = 256ULL << 20;  // all delimited files together
};

struct JobPlan {
  int64_t workers = 1;
  nlohmann::json config = nlohmann::json::object();  // the job's own (not merged)
  int64_t timeout_s = 0;                             // 0: none
  std::vector<std::string> batches;  // each batch's payload, JSON (a list of items); a task: {}
};

// InvalidArgument, naming the field and how to fix it, for a body that does not parse or check.
StatusOr<JobPlan> ParseBatchSubmission(std::string_view body,
                                       const std::filesystem::path& files_root,
                                       const JobLimits& limits);
StatusOr<JobPlan> ParseTaskSubmission(std::string_view body);

// The job's submission as stored and shown: {"workers", "config", "timeout"?}.
nlohmann::json SubmissionJson(const JobPlan& plan);

}  // namespace axon::operator_
