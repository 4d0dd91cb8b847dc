// Putting a set of objects into a cluster and taking them out again by label: what an install,
// an uninstall and an API's deletion do. Blocking; thread-safe as the Client is.
#pragma once

#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/resource.h"

namespace axon::kube {

// Server-side applies each object in order (creating or updating it); stops at the first
// error, which names the object.
Status ApplyAll(Client& client, const std::vector<Json>& objects,
                const std::string& field_manager = "axon");

// The kinds Axon creates, in the order DeleteLabeled() removes them.
std::vector<ResourceKind> AxonKinds();

// Deletes every object of `kinds` in `ns` (cluster-scoped kinds: everywhere) that matches
// `label_selector`; returns how many it deleted. Objects already gone are not errors.
StatusOr<int> DeleteLabeled(Client& client, const std::string& ns,
                            const std::string& label_selector,
                            const std::vector<ResourceKind>& kinds);

}  // namespace axon::kube
