// axon cluster install | info | uninstall: Axon's operator and gateway in a Kubernetes cluster
// (docs/kubernetes.md), through Axon's own Kubernetes client (src/kube), and the CLI env that
// reaches them (cli_envs.h).
#include <iostream>
#include <optional>
#include <thread>
#include <tuple>

#include "cli/cli_envs.h"
#include "cli/cluster_endpoints.h"
#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/files.h"
#include "kube/apply.h"
#include "kube/base64.h"
#include "kube/client.h"
#include "kube/install_manifests.h"
#include "kube/resource.h"
#include "spec/quantity.h"

namespace axon::cli {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace bhttp = http::bhttp;

constexpr char kPartOfAxon[] = "app.kubernetes.io/part-of=axon";

struct InstallFlags {
  std::string kubeconfig;
  std::string context;
  std::string env;
  std::string image_tag = "latest";
  kube::ClusterOptions cluster;
  bool ephemeral_state = false;
  int timeout_s = 300;
};

struct ClusterFlags {  // info, uninstall: the env's cluster, or one named here
  std::string kubeconfig;
  std::string context;
  std::string ns;
  int timeout_s = 300;
};

struct Cluster {
  std::unique_ptr<kube::Client> client;
  std::string ns;
  std::string kubeconfig;
  std::string context;
  std::string env;  // the env it was found through; "" when named by flags
};

CliError Failed(const Status& s) {
  return CliError{s.code() == StatusCode::kInvalidArgument ? kExitBadInput : kExitFailed,
                  s.message()};
}

template <typename T>
T Check(StatusOr<T> value) {
  if (!value.ok()) throw Failed(value.status());
  return std::move(value).value();
}

std::filesystem::path EnvsFile() { return CliEnvsFile(AxonHome::FromEnvironment().root); }

CliEnvs LoadEnvs() {
  auto envs = CliEnvs::Load(EnvsFile());
  if (!envs.ok()) throw CliError{kExitBadInput, envs.status().message()};
  return std::move(envs).value();
}

std::unique_ptr<kube::Client> Connect(const std::string& kubeconfig, const std::string& context) {
  auto credentials = kube::LoadKubeconfig(kubeconfig, context);
  if (!credentials.ok()) {
    throw CliError{kExitBadInput,
                   "--kubeconfig " + kubeconfig + ": " + credentials.status().message()};
  }
  return Check(kube::Client::New(std::move(credentials).value()));
}

// The cluster `flags` name (--kubeconfig), else the one the selected env was installed into.
Cluster Find(const ClusterFlags& flags) {
  Cluster c;
  if (!flags.kubeconfig.empty()) {
    c.kubeconfig = std::filesystem::absolute(flags.kubeconfig).string();
    c.context = flags.context;
    c.ns = flags.ns.empty() ? "axon" : flags.ns;
  } else {
    const std::string name = SelectedEnv(AxonHome::FromEnvironment());
    const CliEnvs envs = LoadEnvs();
    const auto it = envs.envs.find(name);
    if (it == envs.envs.end() || it->second.kubeconfig.empty()) {
      throw CliError{kExitBadInput,
                     "env " + name +
                         " is not a cluster installed with `axon cluster install`: choose one "
                         "with --env NAME (see `axon env list`) or name it with --kubeconfig F "
                         "[--namespace N]"};
    }
    c.env = name;
    c.kubeconfig = it->second.kubeconfig;
    c.context = it->second.context;
    c.ns = flags.ns.empty() ? it->second.kube_namespace : flags.ns;
  }
  c.client = Connect(c.kubeconfig, c.context);
  return c;
}

kube::ResourceKind Kind(const char* api_version, const char* kind) {
  return *kube::FindKind(api_version, kind);
}

struct Endpoints {
  ServiceAddress operator_http, gateway_http, gateway_grpc;
};

StatusOr<Endpoints> FindEndpoints(kube::Client& client, const std::string& ns) {
  auto nodes = client.List(kube::CollectionPath(Kind("v1", "Node"), ""));
  if (!nodes.ok()) return nodes.status();
  auto op = client.Get(kube::ObjectPath(Kind("v1", "Service"), ns, "axon-operator"));
  if (!op.ok()) return op.status();
  auto gw = client.Get(kube::ObjectPath(Kind("v1", "Service"), ns, "axon-gateway"));
  if (!gw.ok()) return gw.status();
  Endpoints e;
  for (auto [service, port, out] :
       {std::tuple{&*op, "http", &e.operator_http}, std::tuple{&*gw, "http", &e.gateway_http},
        std::tuple{&*gw, "grpc", &e.gateway_grpc}}) {
    auto address = ExternalAddress(*service, port, nodes->items);
    if (!address.ok()) return address.status();
    *out = *address;
  }
  return e;
}

// "1/1" ready replicas of Deployment `name`, and why its pods are not ready (waiting reasons).
struct Readiness {
  int64_t ready = 0;
  int64_t desired = 0;
  std::string problems;
};

Readiness DeploymentReadiness(kube::Client& client, const std::string& ns,
                              const std::string& component) {
  Readiness r;
  auto d = client.Get(kube::ObjectPath(Kind("apps/v1", "Deployment"), ns, "axon-" + component));
  if (!d.ok()) {
    r.problems = d.status().message();
    return r;
  }
  r.desired = d->value("spec", Json::object()).value("replicas", 1);
  r.ready = d->value("status", Json::object()).value("readyReplicas", 0);
  auto pods =
      client.List(kube::CollectionPath(Kind("v1", "Pod"), ns),
                  {.label_selector = kube::LabelSelector(
                       {{kube::kPartOfLabel, "axon"}, {kube::kComponentLabel, component}})});
  if (!pods.ok()) return r;
  for (const Json& pod : pods->items) {
    const Json status = pod.value("status", Json::object());
    for (const Json& cs : status.value("containerStatuses", Json::array())) {
      const Json waiting = cs.value("state", Json::object()).value("waiting", Json::object());
      if (!waiting.empty()) {
        r.problems += " pod " + pod["metadata"].value("name", "") + ": " +
                      waiting.value("reason", "") + " " + waiting.value("message", "") + ";";
      }
      const Json last = cs.value("lastState", Json::object()).value("terminated", Json::object());
      if (!last.empty()) {
        r.problems += " last exit " + std::to_string(last.value("exitCode", 0)) + ": " +
                      last.value("message", last.value("reason", "")) + ";";
      }
    }
    for (const Json& c : status.value("conditions", Json::array())) {
      if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False") {
        r.problems += " pod " + pod["metadata"].value("name", "") +
                      " unschedulable: " + c.value("message", "") + ";";
      }
    }
  }
  return r;
}

// Why the operator's state claim holds its pod back, or "".
std::string StateClaimProblem(kube::Client& client, const std::string& ns) {
  auto claim = client.Get(
      kube::ObjectPath(Kind("v1", "PersistentVolumeClaim"), ns, kube::kOperatorStateClaim));
  if (!claim.ok() || claim->value("status", Json::object()).value("phase", "") != "Pending") {
    return "";
  }
  return std::string(" the state claim ") + kube::kOperatorStateClaim +
         " is Pending (no PersistentVolume for it: name a StorageClass that provisions one with "
         "--storage-class, or pass --ephemeral-state);";
}

// The platform token of an earlier install (so envs made then keep working), else a new one.
std::string InstallToken(kube::Client& client, const std::string& ns) {
  auto secret = client.Get(kube::ObjectPath(Kind("v1", "Secret"), ns, kube::kTokenSecret));
  if (secret.ok()) {
    const std::string data = secret->value("data", Json::object()).value("token", "");
    if (auto token = kube::DecodeBase64(data); token.ok() && !token->empty()) return *token;
  }
  return RandomHex(32);
}

bool OperatorAnswers(const ServiceAddress& address) {
  auto res = http::Fetch(address.host, static_cast<uint16_t>(address.port),
                         http::MakeRequest(bhttp::verb::get, "/healthz"), 2s);
  return res.ok() && res->result_int() == 200;
}

void Install(InstallFlags flags) {
  if (Status s = CheckEnvName(flags.env); !s.ok()) throw CliError{kExitBadInput, s.message()};
  if (flags.env == kLocalEnv) {
    throw CliError{kExitBadInput,
                   "--env local is the platform `axon up` starts; name the "
                   "cluster's env otherwise (e.g. --env prod)"};
  }
  auto& cluster = flags.cluster;
  for (const char* reserved : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (cluster.ns == reserved) {
      throw CliError{kExitBadInput, "--namespace " + cluster.ns +
                                        ": Axon owns its namespace (uninstall deletes it); "
                                        "choose another one, e.g. axon"};
    }
  }
  if (flags.ephemeral_state) {
    cluster.state_size.clear();
  } else if (auto size = spec::ParseMemoryBytes(cluster.state_size); !size.ok()) {
    throw CliError{kExitBadInput, "--state-size " + cluster.state_size + ": " +
                                      size.status().message() + " (e.g. 10Gi)"};
  }
  if (cluster.control_image.empty()) cluster.control_image = "axon-control:" + flags.image_tag;
  if (cluster.replica_image.empty()) cluster.replica_image = "axon-replica:" + flags.image_tag;
  const std::string kubeconfig = std::filesystem::absolute(flags.kubeconfig).string();
  auto client = Connect(kubeconfig, flags.context);
  const std::string token = InstallToken(*client, cluster.ns);
  std::cout << "Installing Axon into namespace " << cluster.ns << " of "
            << client->credentials().server.host << " (" << cluster.control_image << ", "
            << cluster.replica_image << ")..." << std::flush;
  if (Status s = kube::ApplyAll(*client, kube::InstallObjects(cluster, token)); !s.ok()) {
    std::cout << "\n";
    throw CliError{kExitFailed, "install failed: " + s.message()};
  }
  std::cout << " applied.\nWaiting for the operator and the gateway..." << std::flush;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.timeout_s);
  Readiness op, gw;
  std::optional<Endpoints> endpoints;
  std::string why;
  while (true) {
    op = DeploymentReadiness(*client, cluster.ns, "operator");
    gw = DeploymentReadiness(*client, cluster.ns, "gateway");
    if (op.ready >= 1 && gw.ready >= 1) {
      auto found = FindEndpoints(*client, cluster.ns);
      if (found.ok() && OperatorAnswers(found->operator_http)) {
        endpoints = *found;
        break;
      }
      why = found.ok() ? "the operator does not answer at http://" +
                             found->operator_http.ToString() + " from this machine"
                       : found.status().message();
    } else {
      why = "operator " + std::to_string(op.ready) + "/" + std::to_string(op.desired) + " ready," +
            op.problems + StateClaimProblem(*client, cluster.ns) + " gateway " +
            std::to_string(gw.ready) + "/" + std::to_string(gw.desired) + " ready," + gw.problems;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cout << "\n";
      throw CliError{kExitFailed,
                     "Axon did not become ready within " + std::to_string(flags.timeout_s) +
                         " s: " + why +
                         " (are the images loaded into the nodes? see `axon image build`)"};
    }
    std::this_thread::sleep_for(1s);
  }
  std::cout << " ready.\n";
  CliEnvs envs = LoadEnvs();
  envs.envs[flags.env] = CliEnv{.operator_url = "http://" + endpoints->operator_http.ToString(),
                                .gateway_url = "http://" + endpoints->gateway_http.ToString(),
                                .token = token,
                                .kubeconfig = kubeconfig,
                                .context = flags.context,
                                .kube_namespace = cluster.ns};
  if (Status s = envs.Save(EnvsFile()); !s.ok()) throw CliError{kExitFailed, s.message()};
  std::cout << "Axon is installed.\n"
            << "  gateway:  http://" << endpoints->gateway_http.ToString() << "\n"
            << "  gRPC:     " << endpoints->gateway_grpc.ToString() << "\n"
            << "  operator: http://" << endpoints->operator_http.ToString() << "\n"
            << "env " << flags.env << " added: use it with `axon env use " << flags.env
            << "` (or `--env " << flags.env << "`)\n";
}

void Info(const ClusterFlags& flags) {
  Cluster c = Find(flags);
  const Readiness op = DeploymentReadiness(*c.client, c.ns, "operator");
  const Readiness gw = DeploymentReadiness(*c.client, c.ns, "gateway");
  auto endpoints = FindEndpoints(*c.client, c.ns);
  if (!endpoints.ok()) {
    throw CliError{kExitFailed,
                   "no Axon install in namespace " + c.ns + ": " + endpoints.status().message()};
  }
  const auto ready = [](const Readiness& r) {
    return std::to_string(r.ready) + "/" + std::to_string(r.desired) + " ready" + r.problems;
  };
  std::cout << "cluster:  " << c.client->credentials().server.host << ", namespace " << c.ns
            << (c.env.empty() ? "" : ", env " + c.env) << "\n"
            << "gateway:  http://" << endpoints->gateway_http.ToString() << " (" << ready(gw)
            << ")\n"
            << "gRPC:     " << endpoints->gateway_grpc.ToString() << "\n"
            << "operator: http://" << endpoints->operator_http.ToString() << " (" << ready(op)
            << (OperatorAnswers(endpoints->operator_http) ? ", answers" : ", does not answer")
            << ")\n";
}

// What is left of `kinds` and pods labelled part-of=axon: "3 Pod, 1 Namespace", or "".
std::string Leftovers(kube::Client& client, const std::string& ns,
                      std::vector<kube::ResourceKind> kinds) {
  std::string out;
  kinds.push_back(Kind("v1", "Pod"));
  for (const kube::ResourceKind& kind : kinds) {
    auto list = client.List(kube::CollectionPath(kind, ns), {.label_selector = kPartOfAxon});
    if (!list.ok() || list->items.empty()) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(list->items.size()) + " " + kind.kind;
  }
  return out;
}

void Uninstall(const ClusterFlags& flags) {
  Cluster c = Find(flags);
  kube::Client& client = *c.client;
  std::cout << "Uninstalling Axon from namespace " << c.ns << "..." << std::flush;
  // The operator first, so that it recreates nothing while the rest goes.
  Status s = client.Delete(kube::ObjectPath(Kind("apps/v1", "Deployment"), c.ns, "axon-operator"),
                           kube::Propagation::kForeground);
  if (!s.ok() && s.code() != StatusCode::kNotFound) throw Failed(s);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.timeout_s);
  const std::string operator_pods =
      kube::LabelSelector({{kube::kPartOfLabel, "axon"}, {kube::kComponentLabel, "operator"}});
  while (std::chrono::steady_clock::now() < deadline) {
    auto pods = client.List(kube::CollectionPath(Kind("v1", "Pod"), c.ns),
                            {.label_selector = operator_pods});
    if (pods.ok() && pods->items.empty()) break;
    std::this_thread::sleep_for(1s);
  }
  // The AxonAPI kind is shared by every install in the cluster: it goes with the last one.
  std::vector<kube::ResourceKind> kinds = kube::AxonKinds();
  auto apis = client.List("/apis/axon.dev/v1alpha1/axonapis");
  bool other_installs = false;
  if (apis.ok()) {
    for (const Json& api : apis->items) {
      if (api["metadata"].value("namespace", "") != c.ns) other_installs = true;
    }
  }
  if (other_installs) {
    std::erase_if(kinds,
                  [](const kube::ResourceKind& k) { return k.kind == "CustomResourceDefinition"; });
  }
  auto deleted = kube::DeleteLabeled(client, c.ns, kPartOfAxon, kinds);
  if (!deleted.ok()) throw Failed(deleted.status());
  std::string left = Leftovers(client, c.ns, kinds);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1s);
    left = Leftovers(client, c.ns, kinds);
  }
  if (!left.empty()) {
    std::cout << "\n";
    throw CliError{kExitFailed, "still in the cluster after " + std::to_string(flags.timeout_s) +
                                    " s: " + left + " (run `axon cluster uninstall` again)"};
  }
  std::cout << " done: " << *deleted << " objects deleted, nothing labelled " << kPartOfAxon
            << " is left" << (other_installs ? " in namespace " + c.ns : "") << ".\n";
  if (!c.env.empty()) {
    CliEnvs envs = LoadEnvs();
    envs.envs.erase(c.env);
    const bool was_current = envs.current == c.env;
    if (was_current) envs.current = kLocalEnv;
    if (Status saved = envs.Save(EnvsFile()); !saved.ok()) throw Failed(saved);
    std::cout << "removed env " << c.env << (was_current ? "; the current env is local" : "")
              << "\n";
  }
}

void AddClusterFlags(CLI::App& cmd, ClusterFlags& flags) {
  cmd.add_option("--kubeconfig", flags.kubeconfig,
                 "the cluster's kubeconfig (default: the one the current env was installed with)");
  cmd.add_option("--context", flags.context, "the kubeconfig's context (default: its current)");
  cmd.add_option("--namespace", flags.ns, "Axon's namespace (default: the env's, or axon)");
}

}  // namespace

void AddClusterCommands(CLI::App& app) {
  auto* cluster = app.add_subcommand(
      "cluster", "install Axon's operator and gateway into a Kubernetes cluster, show, remove");
  cluster->require_subcommand(1);

  auto install_flags = std::make_shared<InstallFlags>();
  auto* install = cluster->add_subcommand(
      "install",
      "apply Axon's objects (namespace, AxonAPI CRD, RBAC, operator, gateway) and add the env "
      "that reaches them");
  install
      ->add_option("--kubeconfig", install_flags->kubeconfig,
                   "kubeconfig of a cluster administrator (the CRD and the Role need one)")
      ->required();
  install->add_option("--context", install_flags->context, "the kubeconfig's context");
  install->add_option("--env", install_flags->env, "the CLI env to add for this cluster")
      ->required();
  install->add_option("--namespace", install_flags->cluster.ns, "Axon's namespace")
      ->capture_default_str();
  install
      ->add_option("--image-tag", install_flags->image_tag,
                   "tag of axon-control and axon-replica (`axon image build --tag`)")
      ->capture_default_str();
  install->add_option("--control-image", install_flags->cluster.control_image,
                      "the operator's and gateway's image (default: axon-control:TAG)");
  install->add_option("--replica-image", install_flags->cluster.replica_image,
                      "the replicas' image (default: axon-replica:TAG)");
  install_flags->cluster.control_image.clear();
  install_flags->cluster.replica_image.clear();
  install
      ->add_option("--image-pull-policy", install_flags->cluster.image_pull_policy,
                   "IfNotPresent, Never (images loaded into the nodes) or Always")
      ->check(CLI::IsMember({"IfNotPresent", "Never", "Always"}))
      ->capture_default_str();
  install
      ->add_option("--service-type", install_flags->cluster.service_type,
                   "how the operator and the gateway are reached from outside")
      ->check(CLI::IsMember({"NodePort", "LoadBalancer"}))
      ->capture_default_str();
  install
      ->add_option("--gateway-replicas", install_flags->cluster.gateway_replicas,
                   "gateway pods (spread over nodes)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  install
      ->add_option("--state-size", install_flags->cluster.state_size,
                   "the operator's state volume (a PersistentVolumeClaim: versions, bundles, "
                   "keys, jobs), which a new operator pod finds again")
      ->capture_default_str();
  install->add_option("--storage-class", install_flags->cluster.state_storage_class,
                      "the state volume's StorageClass (default: the cluster's default one)");
  install->add_flag("--ephemeral-state", install_flags->ephemeral_state,
                    "keep the operator's state on an emptyDir instead: lost when the operator "
                    "pod is deleted (for a cluster without storage)");
  install
      ->add_option("--timeout-s", install_flags->timeout_s,
                   "how long to wait for the operator and the gateway")
      ->capture_default_str();
  install->callback([install_flags] { Install(*install_flags); });

  auto info_flags = std::make_shared<ClusterFlags>();
  auto* info = cluster->add_subcommand(
      "info", "the current env's cluster: gateway and operator addresses, pods ready");
  AddClusterFlags(*info, *info_flags);
  info->callback([info_flags] { Info(*info_flags); });

  auto uninstall_flags = std::make_shared<ClusterFlags>();
  auto* uninstall = cluster->add_subcommand(
      "uninstall",
      "delete everything labelled app.kubernetes.io/part-of=axon (APIs included), and the env");
  AddClusterFlags(*uninstall, *uninstall_flags);
  uninstall
      ->add_option("--timeout-s", uninstall_flags->timeout_s,
                   "how long to wait until nothing is left")
      ->capture_default_str();
  uninstall->callback([uninstall_flags] { Uninstall(*uninstall_flags); });
}

}  // namespace axon::cli
