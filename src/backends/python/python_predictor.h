// The Python backend: embeds CPython (pybind11) and serves a user's PythonPredictor class.
// This folder is the only code that includes Python headers.
#pragma once

#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "replica/predictor.h"

namespace axon::backends {

// Starts the interpreter, imports `module_path` and constructs PythonPredictor(config).
// Call once per process, from the main thread. Errors carry the Python exception's type and
// message; the full traceback goes to stderr (the API's log).
StatusOr<std::unique_ptr<replica::Predictor>> LoadPythonPredictor(
    const std::filesystem::path& module_path, const nlohmann::json& config);

}  // namespace axon::backends
