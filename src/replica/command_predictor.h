// The predictor of `type: command`: a server of the user's own (any program that speaks HTTP),
// started by the replica as its child with $AXON_PORT set. The replica stays what the
// operator and the gateway talk to (its port file, /healthz, Unix socket, drain): it becomes
// ready once the server answers its readiness probe, and passes every request on to it as
// `<method> /?<query>` over loopback TCP, answering with the server's status, Content-Type and
// body.
//
// Threading: StartCommandPredictor() blocks the calling (main) thread until the server is
// ready. Predict() is thread-safe (one connection per call). A watcher thread notices the
// server's exit and calls `on_exit` once, from that thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "replica/predictor.h"
#include "spec/api_spec.h"

namespace axon::replica {

struct CommandOptions {
  spec::CommandSpec command;
  std::filesystem::path working_dir;  // where the command runs (the version's snapshot)
  std::filesystem::path log_file;     // its stdout and stderr are appended here
  std::chrono::milliseconds request_timeout{600'000};  // per request passed on
  // Polled while the server starts; true stops it and fails with kUnavailable.
  std::function<bool()> stop_requested;
  // Called (once, from the watcher thread) when the server exits after it was ready, with how
  // it ended ("exit code 1"). Not called when the predictor's destructor stops it.
  std::function<void(const std::string& how)> on_exit;
};

// Starts the command and waits until it is ready. Errors: kInvalidArgument when the program
// cannot be found or started, or exits before it is ready (with how it ended); kUnavailable
// when stopped. The predictor's destructor stops the server (SIGTERM, then SIGKILL after 5 s).
StatusOr<std::unique_ptr<Predictor>> StartCommandPredictor(const CommandOptions& options);

}  // namespace axon::replica
