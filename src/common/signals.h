// Termination signals handled synchronously: a process blocks SIGTERM/SIGINT in main() before
// starting threads (they inherit the mask), and its main thread later waits for one.
#pragma once

namespace axon {

// Call in main() before any thread starts.
void BlockTerminationSignals();
// Blocks the calling thread until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace axon
