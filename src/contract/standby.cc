#include "contract/standby.h"

#include <nlohmann/json.hpp>

#include "contract/json_fields.h"

namespace axon::contract {

using json = nlohmann::json;

std::string ToLine(const StandbyAssignment& a) {
  const json line = {{"args", ToArgs(a.flags)},
                     {"env", a.env},
                     {"output_file", a.output_file},
                     {"working_dir", a.working_dir}};
  return line.dump() + "\n";
}

StatusOr<StandbyAssignment> StandbyAssignmentFromLine(std::string_view line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("the standby's assignment is not JSON: " +
                           std::string(line.substr(0, 80)));
  }
  FieldReader f(j, "assignment");
  StandbyAssignment a;
  const json& args = f.Array("args");
  if (f.status().ok() && !j.contains("args")) f.Fail(InvalidArgument("assignment.args is missing"));
  a.output_file = f.String("output_file", "", /*required=*/true);
  a.working_dir = f.String("working_dir");
  if (const auto env = j.find("env"); env != j.end()) {
    if (!env->is_object()) return InvalidArgument("assignment.env must be an object");
    for (const auto& [key, value] : env->items()) {
      if (!value.is_string()) {
        return InvalidArgument("assignment.env." + key + " must be a string");
      }
      a.env[key] = value.get<std::string>();
    }
  }
  if (!f.status().ok()) return f.status();
  std::vector<std::string> strings;
  for (const json& arg : args) {
    if (!arg.is_string()) return InvalidArgument("assignment.args must hold strings");
    strings.push_back(arg.get<std::string>());
  }
  auto flags = FromArgs<ReplicaFlags>(strings);
  if (!flags.ok()) return InvalidArgument("assignment.args: " + flags.status().message());
  a.flags = *std::move(flags);
  return a;
}

}  // namespace axon::contract
