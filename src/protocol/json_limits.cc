#include "protocol/json_limits.h"

#include <string>

namespace axon::protocol {

int JsonNestingDepth(std::string_view json, int stop_at) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > stop_at) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Status CheckJsonNesting(std::string_view json, int max_depth) {
  if (JsonNestingDepth(json, max_depth) > max_depth) {
    return InvalidArgument("the JSON body nests lists and objects more than " +
                           std::to_string(max_depth) + " levels deep");
  }
  return OkStatus();
}

}  // namespace axon::protocol
