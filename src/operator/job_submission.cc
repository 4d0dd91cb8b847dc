#include "operator/job_submission.h"

#include <fstream>
#include <system_error>

namespace axon::operator_ {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Status Bad(const std::string& field, const std::string& what) {
  return InvalidArgument(field + ": " + what);
}

std::string TypeOf(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  return "a number";
}

StatusOr<json> ParseObject(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return InvalidArgument("the body is not JSON; send a JSON object, e.g. " +
                           std::string(R"({"item_list": {"items": [1, 2, 3], "batch_size": 2}})"));
  }
  if (!j.is_object()) return InvalidArgument("the body must be a JSON object, got " + TypeOf(j));
  return j;
}

Status CheckKeys(const json& j, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (known) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Bad(where.empty() ? key : where + "." + key, "is not a field here; allowed: " + list);
  }
  return OkStatus();
}

StatusOr<int64_t> IntField(const json& j, const std::string& key, const std::string& path,
                           int64_t min, int64_t max, int64_t fallback) {
  if (!j.contains(key)) return fallback;
  const json& v = j[key];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max) {
    return Bad(path, "must be an integer from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got " + v.dump());
  }
  return v.get<int64_t>();
}

// config and timeout, common to both kinds.
Status ReadCommon(const json& j, JobPlan* plan) {
  if (j.contains("config")) {
    if (!j["config"].is_object()) {
      return Bad("config", "must be a JSON object (merged into the API's config), got " +
                               TypeOf(j["config"]));
    }
    plan->config = j["config"];
  }
  auto timeout = IntField(j, "timeout", "timeout", 1, 365LL * 24 * 3600, 0);
  if (!timeout.ok()) return timeout.status();
  plan->timeout_s = *timeout;
  return OkStatus();
}

// Cuts `items` into batches of `batch_size`.
Status Batch(const std::vector<json>& items, int64_t batch_size, const JobLimits& limits,
             JobPlan* plan) {
  const auto batches = static_cast<int64_t>((items.size() + batch_size - 1) / batch_size);
  if (batches > limits.max_batches) {
    return Bad("batch_size", std::to_string(items.size()) + " items in batches of " +
                                 std::to_string(batch_size) + " make " + std::to_string(batches) +
                                 " batches, more than " + std::to_string(limits.max_batches) +
                                 "; use a larger batch_size");
  }
  for (size_t at = 0; at < items.size(); at += batch_size) {
    const size_t end = std::min(items.size(), at + static_cast<size_t>(batch_size));
    plan->batches.push_back(
        json(std::vector<json>(items.begin() + static_cast<std::ptrdiff_t>(at),
                               items.begin() + static_cast<std::ptrdiff_t>(end)))
            .dump());
  }
  return OkStatus();
}

// The items of the delimited files, one JSON value per line.
Status ReadDelimited(const json& paths, const fs::path& root, const JobLimits& limits,
                     std::vector<json>* items) {
  if (!paths.is_array() || paths.empty()) {
    return Bad("delimited_files.paths",
               "must be a non-empty list of files (relative to the folder of the API's spec), "
               "got " +
                   (paths.is_array() ? std::string("an empty list") : TypeOf(paths)));
  }
  uint64_t total = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string field = "delimited_files.paths[" + std::to_string(i) + "]";
    if (!paths[i].is_string() || paths[i].get<std::string>().empty()) {
      return Bad(field, "must be a file name, got " + paths[i].dump());
    }
    const std::string name = paths[i].get<std::string>();
    const fs::path relative = fs::path(name).lexically_normal();
    if (relative.is_absolute() || relative.empty() || *relative.begin() == "..") {
      return Bad(field, "\"" + name +
                            "\" must be a path inside the folder of the API's spec (relative, "
                            "without ..): only files deployed with the API are read");
    }
    const fs::path file = root / relative;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      return Bad(field, "\"" + name + "\" is not a file deployed with the API (next to its spec)");
    }
    total += fs::file_size(file, ec);
    if (total > limits.max_file_bytes) {
      return Bad(field, "the files hold more than " + std::to_string(limits.max_file_bytes >> 20) +
                            " MiB together; split the job");
    }
    std::ifstream in(file, std::ios::binary);
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      json item = json::parse(line, nullptr, false);
      if (item.is_discarded()) {
        return Bad(field, "\"" + name + "\" line " + std::to_string(n) +
                              " is not JSON (one JSON value per line)");
      }
      items->push_back(std::move(item));
    }
  }
  if (items->empty()) return Bad("delimited_files.paths", "the files hold no items");
  return OkStatus();
}

}  // namespace

StatusOr<JobPlan> ParseBatchSubmission(std::string_view body, const fs::path& files_root,
                                       const JobLimits& limits) {
  auto parsed = ParseObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (Status s = CheckKeys(j, "", {"workers", "item_list", "delimited_files", "config", "timeout"});
      !s.ok()) {
    return s;
  }
  JobPlan plan;
  if (Status s = ReadCommon(j, &plan); !s.ok()) return s;
  auto workers = IntField(j, "workers", "workers", 1, limits.max_workers, 1);
  if (!workers.ok()) return workers.status();
  plan.workers = *workers;
  const bool listed = j.contains("item_list");
  const bool files = j.contains("delimited_files");
  if (listed == files) {
    return InvalidArgument(
        std::string(listed ? "item_list and delimited_files are both given; give one"
                           : "item_list or delimited_files is required") +
        ": {\"item_list\": {\"items\": [...], \"batch_size\": N}} or {\"delimited_files\": "
        "{\"paths\": [\"items.jsonl\"], \"batch_size\": N}}");
  }
  const std::string section = listed ? "item_list" : "delimited_files";
  const json& source = j[section];
  if (!source.is_object()) return Bad(section, "must be an object, got " + TypeOf(source));
  if (Status s = CheckKeys(source, section, {listed ? "items" : "paths", "batch_size"}); !s.ok()) {
    return s;
  }
  auto batch_size = IntField(source, "batch_size", section + ".batch_size", 1, 1'000'000, 1);
  if (!batch_size.ok()) return batch_size.status();
  std::vector<json> items;
  if (listed) {
    const json& list = source.contains("items") ? source["items"] : json();
    if (!list.is_array() || list.empty()) {
      return Bad("item_list.items", "must be a non-empty list of items, got " +
                                        (list.is_array()  ? std::string("an empty list")
                                         : list.is_null() ? std::string("nothing")
                                                          : TypeOf(list)));
    }
    items.assign(list.begin(), list.end());
  } else if (Status s = ReadDelimited(source.contains("paths") ? source["paths"] : json(),
                                      files_root, limits, &items);
             !s.ok()) {
    return s;
  }
  if (Status s = Batch(items, *batch_size, limits, &plan); !s.ok()) return s;
  return plan;
}

StatusOr<JobPlan> ParseTaskSubmission(std::string_view body) {
  JobPlan plan;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    plan.batches.push_back("{}");
    return plan;  // no body: the definition's config as it is
  }
  auto parsed = ParseObject(body);
  if (!parsed.ok()) return parsed.status();
  if (Status s = CheckKeys(*parsed, "", {"config", "timeout"}); !s.ok()) return s;
  if (Status s = ReadCommon(*parsed, &plan); !s.ok()) return s;
  plan.batches.push_back("{}");
  return plan;
}

nlohmann::json SubmissionJson(const JobPlan& plan) {
  json out = {{"workers", plan.workers}, {"config", plan.config}};
  if (plan.timeout_s > 0) out["timeout"] = plan.timeout_s;
  return out;
}

}  // namespace axon::operator_
