// Controller's read-only views: the `axon get`, `describe` and `logs` answers.
#include <fstream>
#include <limits>

#include "common/files.h"
#include "operator/controller.h"

namespace axon::operator_ {
namespace {

constexpr int64_t kMaxLogChunk = 1 << 20;

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

nlohmann::json Controller::DescribeLocked(const ApiRuntime& api,
                                          const nlohmann::json& stats) const {
  const auto& s = stats.contains(api.spec.name) ? stats[api.spec.name] : nlohmann::json::object();
  const uint64_t n2 = s.value("2xx", 0ULL), n4 = s.value("4xx", 0ULL), n5 = s.value("5xx", 0ULL);
  const uint64_t total = n2 + n4 + n5;
  nlohmann::json out = {
      {"name", api.spec.name},
      {"status", api.Status()},
      {"reason", FirstLine(api.error)},
      {"endpoint", api.spec.networking.endpoint},
      {"version", api.version},
      {"requested", api.Requested()},
      {"up_to_date", api.ReadyUpToDate()},
      {"last_update", api.updated_at},
      {"requests_2xx", n2},
      {"requests_4xx", n4},
      {"requests_5xx", n5},
      {"in_flight", s.value("in_flight", 0)},
      {"avg_request_ms",
       total == 0 ? nlohmann::json(nullptr)
                  : nlohmann::json(static_cast<double>(s.value("latency_us_total", 0ULL)) /
                                   static_cast<double>(total) / 1000.0)},
  };
  return out;
}

// Statistics without in-flight samples (the views do not need them).
constexpr int64_t kNoSamples = std::numeric_limits<int64_t>::max();

nlohmann::json Controller::List() const {
  const nlohmann::json stats = gateway_.Stats(kNoSamples);
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, api] : apis_) out.push_back(DescribeLocked(api, stats));
  return out;
}

StatusOr<nlohmann::json> Controller::Describe(const std::string& name) const {
  const nlohmann::json stats = gateway_.Stats(kNoSamples);
  std::lock_guard lock(mu_);
  auto it = apis_.find(name);
  if (it == apis_.end()) return NotFound("no api named " + name + " (see `axon get`)");
  const ApiRuntime& api = it->second;
  nlohmann::json out = DescribeLocked(api, stats);
  out["error"] = api.error;
  out["autoscaling"] = api.last_scaling;
  out["spec"] = spec::ToJson(api.spec);
  nlohmann::json replicas = nlohmann::json::array();
  auto add = [&](const ReplicaSlot& slot) {
    replicas.push_back({{"id", slot.id},
                        {"version", slot.version},
                        {"state", PhaseName(slot.phase)},
                        {"pid", slot.handle.pid},
                        {"port", slot.port},
                        {"restarts", slot.restarts},
                        {"last_failure", FirstLine(slot.last_failure)}});
  };
  for (const auto& slot : api.replicas) add(slot);
  for (const auto& slot : stopping_) {
    if (slot.api == name) add(slot);
  }
  out["replicas"] = std::move(replicas);
  return out;
}

StatusOr<nlohmann::json> Controller::Logs(const std::string& name, int64_t offset, int tail) const {
  {
    std::lock_guard lock(mu_);
    if (!apis_.contains(name)) return NotFound("no api named " + name + " (see `axon get`)");
  }
  const auto path = options_.home.ApiLog(name);
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return nlohmann::json{{"text", ""}, {"offset", 0}};
  if (offset < 0) return nlohmann::json{{"text", TailFile(path, tail)}, {"offset", size}};
  if (offset > size) offset = 0;  // the file was rotated: start over
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::string text(static_cast<size_t>(std::min(kMaxLogChunk, size - offset)), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return nlohmann::json{{"text", text}, {"offset", offset + static_cast<int64_t>(text.size())}};
}

}  // namespace axon::operator_
