#include "gateway/model_path.h"

#include "common/model_name.h"
#include "http/responses.h"
#include "http/url.h"

namespace axon::gateway {

ModelPathMatch MatchModelPath(const RouteTable& table, std::string_view target) {
  const std::string_view path = http::TargetPath(target);
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return {};
  const ApiRoute* api = table.Find(path.substr(0, slash));
  if (api == nullptr || !api->spec.many_models) return {};
  const std::string_view model = path.substr(slash + 1);
  ModelPathMatch match{.api = api};
  if (!IsModelName(model)) {
    match.status = 404;
    match.error = "no API is deployed at " + std::string(path) + "; api " + api->name() +
                  " serves its models at " + api->spec.endpoint +
                  "/<model>, where a model name is made of letters, digits, \"-\", \"_\" and "
                  "\".\" (not first)";
    return match;
  }
  const std::string_view query = http::TargetQuery(target);
  for (const auto& [key, value] : http::ParseQuery(query)) {
    if (key == "model") {
      match.status = 400;
      match.error = "the model is named twice, in the path (" + std::string(model) +
                    ") and in ?model=; name it once";
      return match;
    }
  }
  match.target = api->spec.endpoint + "?model=" + std::string(model);
  if (!query.empty()) (match.target += '&') += query;
  return match;
}

}  // namespace axon::gateway
