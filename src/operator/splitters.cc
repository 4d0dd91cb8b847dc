#include "operator/splitters.h"

namespace axon::operator_ {
namespace {

std::string Where(const std::string& file, int line, const std::string& api) {
  return file + ":" + std::to_string(line) + ": api \"" + api + "\": ";
}

// The kind of `name` after the deploy: declared in the file, else deployed, else "".
std::string KindAfter(const std::string& name, const std::vector<spec::ApiSpec>& apis,
                      const std::map<std::string, ApiRuntime>& deployed) {
  for (const auto& api : apis) {
    if (api.name == name) return api.kind;
  }
  const auto it = deployed.find(name);
  return it != deployed.end() ? it->second.spec.kind : "";
}

}  // namespace

Status CheckSplitters(const std::vector<spec::ApiSpec>& apis,
                      const std::map<std::string, ApiRuntime>& deployed, const std::string& file) {
  for (const auto& api : apis) {
    const auto it = deployed.find(api.name);
    if (it != deployed.end() && it->second.spec.kind != api.kind) {
      return AlreadyExists(Where(file, api.source_line, api.name) + "kind: api \"" + api.name +
                           "\" is deployed as " + spec::KindWithArticle(it->second.spec.kind) +
                           "; delete it (axon delete " + api.name + ") before deploying " +
                           spec::KindWithArticle(api.kind) + " of that name");
    }
  }
  for (const auto& api : apis) {
    for (size_t i = 0; i < api.apis.size(); ++i) {
      const spec::SplitTarget& target = api.apis[i];
      const std::string kind = KindAfter(target.name, apis, deployed);
      const std::string where =
          Where(file, target.source_line, api.name) + "apis[" + std::to_string(i) + "].name: ";
      if (kind.empty()) {
        return InvalidArgument(
            where + "no api named \"" + target.name +
            "\" is deployed or declared in this file; deploy it first, or add it to "
            "this file");
      }
      if (kind != spec::kRealtimeKind) {
        return InvalidArgument(where + "api \"" + target.name + "\" is " +
                               spec::KindWithArticle(kind) +
                               "; a TrafficSplitter sends requests to RealtimeAPIs only");
      }
    }
  }
  return OkStatus();
}

std::vector<std::string> SplittersUsing(const std::map<std::string, ApiRuntime>& apis,
                                        const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [splitter, api] : apis) {
    for (const auto& target : api.spec.apis) {
      if (target.name == name) out.push_back(splitter);
    }
  }
  return out;
}

SplitterState SplitterStatus(const spec::ApiSpec& splitter,
                             const std::map<std::string, ApiRuntime>& apis) {
  for (const auto& target : splitter.apis) {
    if (!apis.contains(target.name)) {
      return {"error", "api " + target.name + " is not deployed"};
    }
  }
  return {"live", ""};
}

void AddSplit(const spec::ApiSpec& splitter, contract::ApiRoute* route) {
  for (const auto& target : splitter.apis) {
    route->split.push_back({.api = target.name, .weight = target.weight, .shadow = target.shadow});
  }
}

nlohmann::json SplitTargetsJson(const spec::ApiSpec& splitter) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : splitter.apis) {
    out.push_back({{"name", t.name}, {"weight", t.weight}, {"shadow", t.shadow}});
  }
  return out;
}

}  // namespace axon::operator_
