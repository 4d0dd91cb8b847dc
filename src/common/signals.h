// Termination signals handled synchronously: a process blocks SIGTERM/SIGINT in main() before
// starting threads (they inherit the mask), and its main thread later waits for one.
#pragma once

namespace axon {

// Call in main() before any thread starts.
void BlockTerminationSignals();
// Blocks the calling thread until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();
// Takes a pending SIGTERM or SIGINT without waiting; returns its number, or 0 when none is
// pending (for long start-up work that must stop when asked to).
int PollTerminationSignal();

}  // namespace axon
