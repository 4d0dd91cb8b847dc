#include "cli/multi_model_view.h"

#include <string>

#include "cli/table.h"

namespace axon::cli {
namespace {

// A version number; 0 is a model folder without numbered versions.
std::string Version(const nlohmann::json& v) {
  if (!v.is_number_integer()) return "-";
  return v.get<int64_t>() == 0 ? "(unversioned)" : std::to_string(v.get<int64_t>());
}

// "1, 2" for [1, 2]; "-" for none.
std::string Versions(const nlohmann::json& list) {
  std::string out;
  if (list.is_array()) {
    for (const auto& v : list) out += (out.empty() ? "" : ", ") + Version(v);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void PrintMultiModel(std::ostream& out, const nlohmann::json& multi_model) {
  const int64_t cache_size = multi_model.value("cache_size", int64_t{0});
  const int64_t disk = multi_model.value("disk_cache_size", int64_t{0});
  const nlohmann::json loaded = multi_model.value("loaded", nlohmann::json::array());
  out << "\nmodels: loaded on first use, at most "
      << (cache_size > 0 ? std::to_string(cache_size) : std::string("all")) << " per replica";
  if (disk > 0) out << " (disk_cache_size " << disk << ")";
  out << "\n";
  Table table({"model", "versions", "serves", "loaded"});
  for (const auto& m : multi_model.value("models", nlohmann::json::array())) {
    table.AddRow({m.value("name", std::string("-")),
                  Versions(m.value("versions", nlohmann::json())),
                  Version(m.value("latest", nlohmann::json())),
                  Versions(m.value("loaded", nlohmann::json()))});
  }
  table.Print(out);
  std::string order;
  for (const auto& entry : loaded) {
    order += (order.empty() ? "" : ", ") + entry.value("name", std::string("-")) + " " +
             Version(entry.value("version", nlohmann::json()));
  }
  out << "loaded on replica " << multi_model.value("replica", std::string("-"))
      << " (least recently used first): " << (order.empty() ? "none" : order) << "\n";
}

}  // namespace axon::cli
