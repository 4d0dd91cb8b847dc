// axon env add | list | use | remove: the platforms the verbs talk to (cli_envs.h).
#include <iostream>

#include "cli/cli_envs.h"
#include "cli/commands.h"
#include "cli/platform_client.h"
#include "cli/table.h"

namespace axon::cli {
namespace {

std::filesystem::path EnvsFile() { return CliEnvsFile(AxonHome::FromEnvironment().root); }

CliEnvs LoadEnvs() {
  auto envs = CliEnvs::Load(EnvsFile());
  if (!envs.ok()) throw CliError{kExitBadInput, envs.status().message()};
  return std::move(envs).value();
}

void SaveEnvs(const CliEnvs& envs) {
  if (Status s = envs.Save(EnvsFile()); !s.ok()) throw CliError{kExitFailed, s.message()};
}

struct AddFlags {
  std::string name;
  CliEnv env;
};

void Add(const AddFlags& flags) {
  if (Status s = CheckEnv(flags.name, flags.env); !s.ok()) {
    throw CliError{kExitBadInput, s.message()};
  }
  CliEnvs envs = LoadEnvs();
  const bool replaced = envs.envs.contains(flags.name);
  envs.envs[flags.name] = flags.env;
  SaveEnvs(envs);
  std::cout << (replaced ? "updated" : "added") << " env " << flags.name << " (operator "
            << flags.env.operator_url << "); use it with `axon env use " << flags.name
            << "` or `--env " << flags.name << "`\n";
}

void List() {
  const CliEnvs envs = LoadEnvs();
  const PlatformClient local(AxonHome::FromEnvironment(), kLocalEnv);
  Table table({"", "env", "operator", "gateway", "cluster"});
  const auto mark = [&](const std::string& name) { return envs.current == name ? "*" : ""; };
  table.AddRow({mark(kLocalEnv), kLocalEnv, local.addresses().OperatorUrl(),
                local.addresses().GatewayUrl(), "- (axon up)"});
  for (const auto& [name, env] : envs.envs) {
    table.AddRow({mark(name), name, env.operator_url,
                  env.gateway_url.empty() ? "-" : env.gateway_url,
                  env.kubeconfig.empty() ? "-" : "namespace " + env.kube_namespace});
  }
  table.Print(std::cout);
}

void Use(const std::string& name) {
  CliEnvs envs = LoadEnvs();
  if (name != kLocalEnv && !envs.envs.contains(name)) {
    throw CliError{kExitBadInput,
                   "no env \"" + name + "\": see `axon env list`, add one with `axon env add`"};
  }
  envs.current = name;
  SaveEnvs(envs);
  std::cout << "the current env is " << name << "\n";
}

void Remove(const std::string& name) {
  if (name == kLocalEnv) {
    throw CliError{kExitBadInput,
                   "env local is the platform `axon up` starts: it cannot be removed"};
  }
  CliEnvs envs = LoadEnvs();
  if (envs.envs.erase(name) == 0) {
    throw CliError{kExitBadInput, "no env \"" + name + "\": see `axon env list`"};
  }
  const bool was_current = envs.current == name;
  if (was_current) envs.current = kLocalEnv;
  SaveEnvs(envs);
  std::cout << "removed env " << name << (was_current ? "; the current env is local" : "") << "\n";
}

}  // namespace

void AddEnvCommands(CLI::App& app) {
  auto* env = app.add_subcommand(
      "env", "the platforms the verbs talk to: `local` (axon up) and others (clusters)");
  env->require_subcommand(1);
  auto flags = std::make_shared<AddFlags>();
  auto* add = env->add_subcommand("add", "add (or replace) an env: an operator and its token");
  add->add_option("NAME", flags->name, "the env's name")->required();
  add->add_option("--operator", flags->env.operator_url,
                  "the operator's management API, http(s)://HOST:PORT")
      ->required();
  add->add_option("--token", flags->env.token, "the platform token of that operator")->required();
  add->add_option("--gateway", flags->env.gateway_url,
                  "the gateway predictions go to, http(s)://HOST:PORT");
  add->callback([flags] { Add(*flags); });

  env->add_subcommand("list", "list the envs; * marks the current one")->callback(List);

  auto name = std::make_shared<std::string>();
  auto* use = env->add_subcommand("use", "make NAME the env every verb talks to");
  use->add_option("NAME", *name, "the env (local: the platform of `axon up`)")->required();
  use->callback([name] { Use(*name); });

  auto* remove = env->add_subcommand("remove", "forget env NAME (nothing is stopped)");
  remove->add_option("NAME", *name, "the env")->required();
  remove->callback([name] { Remove(*name); });
}

}  // namespace axon::cli
