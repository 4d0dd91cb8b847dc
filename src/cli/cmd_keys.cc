// axon keys create | list | revoke: per-API keys, checked by the gateway.
#include <iostream>

#include "cli/commands.h"
#include "cli/platform_client.h"
#include "cli/table.h"

namespace axon::cli {
namespace {

namespace bhttp = http::bhttp;

std::string KeysPath(const std::string& api) { return "/v1/apis/" + api + "/keys"; }

void Create(const std::string& api) {
  const PlatformClient client(AxonHome::FromEnvironment());
  const auto key = client.Call(bhttp::verb::post, KeysPath(api));
  std::cout << key["key"].get<std::string>() << "\n";
  std::cerr << "key " << key["id"].get<std::string>() << " created for api " << api
            << ". It is shown only now: the platform keeps its hash. Requests to the api must "
               "send it as `X-API-Key: KEY` or `Authorization: Bearer KEY`.\n";
}

void List(const std::string& api) {
  const PlatformClient client(AxonHome::FromEnvironment());
  const auto keys = client.Call(bhttp::verb::get, KeysPath(api));
  if (keys.empty()) {
    std::cout << "api " << api << " has no keys (create one with `axon keys create " << api
              << "`)\n";
    return;
  }
  Table table({"id", "created"});
  for (const auto& key : keys) {
    table.AddRow({key["id"].get<std::string>(), Ago(key["created_at"].get<int64_t>()) + " ago"});
  }
  table.Print(std::cout);
}

void Revoke(const std::string& api, const std::string& id) {
  const PlatformClient client(AxonHome::FromEnvironment());
  client.Call(bhttp::verb::delete_, KeysPath(api) + "/" + id);
  std::cout << "revoked key " << id << " of api " << api << "\n";
}

}  // namespace

void AddKeyCommands(CLI::App& app) {
  auto* keys = app.add_subcommand(
      "keys",
      "manage an API's keys: once an API has a key (or its spec sets networking.api_keys: true), "
      "the gateway answers 401 to requests without a valid one");
  keys->require_subcommand(1);
  auto api = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto* create = keys->add_subcommand("create", "create a key (printed once) for API");
  create->add_option("API", *api, "the api")->required();
  create->callback([api] { Create(*api); });
  auto* list = keys->add_subcommand("list", "list API's keys (ids and ages, never the keys)");
  list->add_option("API", *api, "the api")->required();
  list->callback([api] { List(*api); });
  auto* revoke = keys->add_subcommand("revoke", "revoke one of API's keys by its id");
  revoke->add_option("API", *api, "the api")->required();
  revoke->add_option("ID", *id, "the key's id, as `axon keys list` shows it")->required();
  revoke->callback([api, id] { Revoke(*api, *id); });
}

}  // namespace axon::cli
