#include "kube/resource.h"

#include <array>
#include <cctype>

namespace axon::kube {
namespace {

const std::array<ResourceKind, 16> kKinds = {{
    {"v1", "Namespace", "namespaces", false},
    {"v1", "ServiceAccount", "serviceaccounts", true},
    {"v1", "Service", "services", true},
    {"v1", "ConfigMap", "configmaps", true},
    {"v1", "Secret", "secrets", true},
    {"v1", "Pod", "pods", true},
    {"v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
    {"v1", "Node", "nodes", false},
    {"apps/v1", "Deployment", "deployments", true},
    {"rbac.authorization.k8s.io/v1", "Role", "roles", true},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false},
    {"coordination.k8s.io/v1", "Lease", "leases", true},
    {"axon.dev/v1alpha1", "AxonAPI", "axonapis", true},
}};

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

StatusOr<ResourceKind> KindOfObject(const nlohmann::json& object) {
  if (!object.is_object()) return InvalidArgument("not a Kubernetes object (not a JSON object)");
  const std::string api_version = Str(object, "apiVersion");
  const std::string kind = Str(object, "kind");
  if (api_version.empty() || kind.empty()) {
    return InvalidArgument("object without apiVersion and kind");
  }
  return FindKind(api_version, kind);
}

std::string NamespaceOf(const nlohmann::json& object, const std::string& default_ns) {
  const auto meta = object.find("metadata");
  if (meta == object.end()) return default_ns;
  const std::string ns = Str(*meta, "namespace");
  return ns.empty() ? default_ns : ns;
}

}  // namespace

StatusOr<ResourceKind> FindKind(const std::string& api_version, const std::string& kind) {
  for (const ResourceKind& k : kKinds) {
    if (k.api_version == api_version && k.kind == kind) return k;
  }
  return NotFound("unknown kind " + kind + " in " + api_version);
}

std::string CollectionPath(const ResourceKind& kind, const std::string& ns) {
  std::string path = kind.api_version.find('/') == std::string::npos ? "/api/" + kind.api_version
                                                                     : "/apis/" + kind.api_version;
  if (kind.namespaced && !ns.empty()) path += "/namespaces/" + ns;
  return path + "/" + kind.plural;
}

std::string ObjectPath(const ResourceKind& kind, const std::string& ns, const std::string& name) {
  return CollectionPath(kind, ns) + "/" + name;
}

StatusOr<std::string> CollectionPathOf(const nlohmann::json& object,
                                       const std::string& default_ns) {
  auto kind = KindOfObject(object);
  if (!kind.ok()) return kind.status();
  return CollectionPath(*kind, NamespaceOf(object, default_ns));
}

StatusOr<std::string> PathOf(const nlohmann::json& object, const std::string& default_ns) {
  auto collection = CollectionPathOf(object, default_ns);
  if (!collection.ok()) return collection;
  const auto meta = object.find("metadata");
  const std::string name = meta == object.end() ? "" : Str(*meta, "name");
  if (name.empty()) return InvalidArgument("object without metadata.name");
  return *collection + "/" + name;
}

std::string QueryEscape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += key + "=" + QueryEscape(value);
  }
  return out;
}

std::string LabelSelector(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ",";
    out += key + "=" + value;
  }
  return out;
}

}  // namespace axon::kube
