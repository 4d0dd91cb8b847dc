// Python environments for predictor.dependencies: one virtual environment per distinct set of
// dependencies, under $AXON_HOME/envs/<key>/, made with `python3 -m venv
// --system-site-packages` (so Debian's packages stay importable), then the shell script, then
// `pip install -r`. The key is a hash of the interpreter and of both files' text: every replica
// and version of every API with the same set shares one environment, built once.
//
// Several replicas may ask for the same environment at once: the first builds it while holding
// <key>.lock (flock), the others wait for the lock and then use what it built, or report the
// failure it just had. A finished environment holds the file .axon-ready; a folder without it
// (a build that was killed) is removed and built again. The build's output is kept in
// <key>.log.
//
// Threading: blocks its caller for as long as the build takes (seconds to minutes); call from
// the replica's main thread before the predictor loads. No shared state besides the files.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "common/status.h"
#include "spec/api_spec.h"

namespace axon::replica {

struct PythonEnvOptions {
  std::filesystem::path envs_root;  // $AXON_HOME/envs
  std::filesystem::path python;     // the interpreter the replica embeds, e.g. /usr/bin/python3
  std::string python_version;       // its version ("3.11.2"): part of the key
  // Polled while waiting for the lock or for a build step; true stops the build (the
  // environment is left unfinished, for the next replica to build) and fails with kUnavailable.
  std::function<bool()> stop_requested;
};

// The folder name of the environment for `deps`: 16 hex digits.
std::string PythonEnvKey(const spec::DependenciesSpec& deps, const PythonEnvOptions& options);

// The environment's folder, built first if it is not yet. A failed step gives kInvalidArgument
// with a message that names the step, its exit, pip's last error line and the last lines of
// its output, e.g. "predictor.dependencies: pip install -r requirements.txt failed (exit code
// 1): ERROR: No matching distribution found for pkg==9\n<last lines>". Must not be called with
// empty `deps`.
StatusOr<std::filesystem::path> EnsurePythonEnv(const spec::DependenciesSpec& deps,
                                                const PythonEnvOptions& options);

}  // namespace axon::replica
