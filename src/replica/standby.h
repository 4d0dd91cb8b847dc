// The replica's side of a standby (contract/standby.h): `axon-replica --standby TYPE` has
// loaded the runtime TYPE and waits here for the operator's line that makes it one API's
// replica.
//
// Call both from main() only: ApplyAssignment() changes the process's environment, working
// directory and standard descriptors, which no other thread may be using then.
#pragma once

#include <optional>

#include "common/status.h"
#include "contract/standby.h"

namespace axon::replica {

// Blocks until a whole line is on stdin. nullopt when the standby is not needed: the operator
// closed the pipe (it stopped, or the API that wanted a standby went away) or a termination
// signal came (termination signals must be blocked, common/signals.h). An error when the line
// is not an assignment.
StatusOr<std::optional<contract::StandbyAssignment>> ReadAssignment();

// Sends stdout and stderr to the assignment's output file, sets its environment variables,
// enters its working directory and puts /dev/null on stdin. The error says which step failed.
Status ApplyAssignment(const contract::StandbyAssignment& assignment);

}  // namespace axon::replica
