#include "kube/apply.h"

namespace axon::kube {

Status ApplyAll(Client& client, const std::vector<Json>& objects,
                const std::string& field_manager) {
  for (const Json& object : objects) {
    auto path = PathOf(object, client.credentials().default_namespace);
    if (!path.ok()) return path.status();
    auto applied = client.Apply(*path, object, field_manager);
    if (!applied.ok()) return applied.status();
  }
  return OkStatus();
}

std::vector<ResourceKind> AxonKinds() {
  // Owners before what they own; the namespace last.
  const std::pair<const char*, const char*> kinds[] = {
      {"axon.dev/v1alpha1", "AxonAPI"},
      {"apps/v1", "Deployment"},
      {"v1", "Service"},
      {"v1", "ConfigMap"},
      {"v1", "Secret"},
      {"v1", "PersistentVolumeClaim"},
      {"rbac.authorization.k8s.io/v1", "RoleBinding"},
      {"rbac.authorization.k8s.io/v1", "Role"},
      {"v1", "ServiceAccount"},
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
      {"v1", "Namespace"},
  };
  std::vector<ResourceKind> out;
  for (const auto& [api_version, kind] : kinds) out.push_back(*FindKind(api_version, kind));
  return out;
}

StatusOr<int> DeleteLabeled(Client& client, const std::string& ns,
                            const std::string& label_selector,
                            const std::vector<ResourceKind>& kinds) {
  int deleted = 0;
  for (const ResourceKind& kind : kinds) {
    auto list = client.List(CollectionPath(kind, ns), {.label_selector = label_selector});
    if (!list.ok()) {
      // A kind the server does not know (the CRD is gone already) has nothing to delete.
      if (list.status().code() == StatusCode::kNotFound) continue;
      return list.status();
    }
    for (const Json& item : list->items) {
      const Json meta = item.value("metadata", Json::object());
      const std::string path =
          ObjectPath(kind, meta.value("namespace", ns), meta.value("name", ""));
      Status s = client.Delete(path, Propagation::kBackground);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      if (s.ok()) ++deleted;
    }
  }
  return deleted;
}

}  // namespace axon::kube
