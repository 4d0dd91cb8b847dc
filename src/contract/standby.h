// The hand-over of a standby replica. The operator starts `axon-replica --standby TYPE`
// (contract/flags.h) before an API needs it: the process loads the native runtime TYPE (for
// libtorch, most of a native replica's start) and then reads one line from its stdin, a JSON
// object that makes it one API's replica, as if it had been started with those flags. This
// header is the one definition of that line: operator/child_replica_processes.cc writes it,
// replica/standby.h reads it.
//
// Plain values; copy freely. StandbyAssignmentFromLine() never throws.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "contract/flags.h"

namespace axon::contract {

struct StandbyAssignment {
  ReplicaFlags flags;  // those a replica started directly gets (standby empty)
  // Set before anything else reads the environment: the variables that name this replica
  // (AXON_API, AXON_REPLICA_ID, AXON_API_VERSION). The rest of the replica's environment is
  // the standby's own, which the operator chose to match the API's.
  std::map<std::string, std::string> env;
  std::string output_file;  // stdout and stderr are appended here from then on
  std::string working_dir;  // the predictor's folder; "" = stay
  bool operator==(const StandbyAssignment&) const = default;
};

// One line of JSON ending in '\n' (values are escaped: no newline inside).
std::string ToLine(const StandbyAssignment& assignment);
// Fails, naming the field or the flag, on anything ToLine() would not have written.
StatusOr<StandbyAssignment> StandbyAssignmentFromLine(std::string_view line);

}  // namespace axon::contract
