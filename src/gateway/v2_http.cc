// The Open Inference Protocol's HTTP paths on the gateway. Every API is a model named after
// it; its versions are the API versions of its ready replicas (and its current version). The
// gateway answers health and metadata itself, asks a replica for a model's metadata (GET
// /metadata, mapped to the protocol's form) and forwards inference requests, as they came, to
// a replica's /v2/infer. See docs/protocol.md.
#include <charconv>
#include <set>

#include "common/version.h"
#include "gateway/gateway.h"
#include "gateway/v2_path.h"
#include "http/responses.h"
#include "protocol/v2_metadata.h"
#include "protocol/v2_types.h"

namespace axon::gateway {
namespace {

namespace bhttp = http::bhttp;
using http::Response;

std::optional<int64_t> ParseVersion(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

// The versions a client may ask for: the current one and those of ready replicas.
std::vector<int64_t> VersionsOf(const ApiRoute& api) {
  std::set<int64_t> versions;
  if (api.spec.version > 0) versions.insert(api.spec.version);
  for (const auto& r : api.replicas) {
    if (r->version > 0) versions.insert(r->version);
  }
  return {versions.begin(), versions.end()};
}

std::string VersionList(const std::vector<int64_t>& versions) {
  std::string out;
  for (int64_t v : versions) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out.empty() ? "none" : out;
}

// Every API serves, or sits at zero replicas on purpose (min_replicas 0: a request wakes it;
// the operator calls such an API live).
bool AllReady(const RouteTable& table) {
  for (const auto& api : table.apis()) {
    if (api->replicas.empty() && (api->spec.status != "live" || api->spec.start_failing)) {
      return false;
    }
  }
  return true;
}

Response ServerMetadata() {
  return http::JsonResponse(
      200, {{"name", "axon"},
            {"version", std::string(Version())},
            {"extensions",
             nlohmann::json::array({std::string(protocol::v2::kBinaryTensorDataExtension)})}});
}

// The model's metadata from a replica's GET /metadata answer. A replica without a model to
// describe (a Python predictor) answers 404; other failures pass through.
Response ModelMetadata(const ApiRoute& api, Response replica) {
  if (replica.result_int() != 200 && replica.result_int() != 404) return replica;
  nlohmann::json described = nullptr;
  if (replica.result_int() == 200) {
    described = nlohmann::json::parse(replica.body(), nullptr, /*allow_exceptions=*/false);
    if (!described.is_object()) return http::JsonError(502, "a replica's metadata is malformed");
  }
  return http::JsonResponse(200,
                            protocol::v2::ModelMetadata(api.name(), VersionsOf(api), described));
}

}  // namespace

http::asio::awaitable<Response> Gateway::HandleV2(http::Request& request,
                                                  const std::string& request_id) {
  const std::string path(http::TargetPath(request.target()));
  const V2Path route = ParseV2Path(path);
  if (route.kind == V2Path::kNone) {
    co_return http::JsonError(404, "no such path in the Open Inference Protocol: " + path);
  }
  const bhttp::verb method = route.kind == V2Path::kInfer ? bhttp::verb::post : bhttp::verb::get;
  if (request.method() != method) {
    co_return http::JsonError(
        405, std::string("use ") + (method == bhttp::verb::post ? "POST" : "GET") + " for " + path);
  }
  auto table = routes_.load();
  switch (route.kind) {
    case V2Path::kLive:
      co_return http::JsonResponse(200, {{"live", true}});
    case V2Path::kReady: {
      const bool ready = AllReady(*table);
      co_return http::JsonResponse(ready ? 200 : 400, {{"ready", ready}});
    }
    case V2Path::kServerMetadata:
      co_return ServerMetadata();
    default:
      break;
  }
  const ApiRoute* api = table->FindByName(route.model);
  if (api == nullptr) {
    co_return http::JsonError(
        404, "no model named \"" + route.model + "\": the models are the deployed APIs, by name");
  }
  if (api->spec.async) {
    co_return http::JsonError(404, "api " + route.model +
                                       " is an AsyncAPI, not a model of the Open Inference "
                                       "Protocol: POST requests to " +
                                       api->spec.endpoint + " and GET their results");
  }
  int64_t version = 0;
  if (!route.version.empty()) {
    const std::optional<int64_t> v = ParseVersion(route.version);
    if (!v || (*v != api->spec.version && table->FindVersion(*api, *v) == nullptr)) {
      co_return http::JsonError(404, "model \"" + api->name() + "\" has no version \"" +
                                         route.version +
                                         "\"; versions: " + VersionList(VersionsOf(*api)));
    }
    version = *v;
  }
  if (route.kind == V2Path::kModelReady) {
    const bool ready =
        version == 0 ? !api->replicas.empty() : table->FindVersion(*api, version) != nullptr;
    co_return http::JsonResponse(ready ? 200 : 400, {{"name", api->name()}, {"ready", ready}});
  }
  if (route.kind == V2Path::kModelMetadata) {
    request.body().clear();
    Response replica =
        co_await Dispatch(table, api, version, request, request_id, "/metadata", false);
    co_return ModelMetadata(*api, std::move(replica));
  }
  co_return co_await Dispatch(table, api, version, request, request_id,
                              protocol::v2::kReplicaInferPath, /*prediction=*/true);
}

}  // namespace axon::gateway
