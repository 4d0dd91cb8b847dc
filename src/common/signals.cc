#include "common/signals.h"

#include <signal.h>

namespace axon {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a peer closing a socket is an error value, not a death
}

int WaitForTerminationSignal() {
  const sigset_t set = TerminationSignals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

int PollTerminationSignal() {
  const sigset_t set = TerminationSignals();
  const timespec no_wait{0, 0};
  const int sig = sigtimedwait(&set, nullptr, &no_wait);
  return sig > 0 ? sig : 0;
}

}  // namespace axon
