// The Python backend: embeds CPython (pybind11) and serves a user's PythonPredictor class.
// This folder is the only code that includes Python headers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "replica/model.h"
#include "replica/predictor.h"
#include "spec/api_spec.h"

namespace axon::backends {

// A native model offered to the Python predictor through its model_client.
struct NamedModel {
  std::string name;
  std::unique_ptr<replica::Model> model;
  nlohmann::json description;  // for metadata answers
};

// Starts the interpreter, imports `module_path` and constructs PythonPredictor(config) — with
// model_client=ModelClient(models) when `models` is not empty (or __init__ asks for it), or, with
// a `multi_model` (predictor.models as a mapping), with the model cache of model_cache.py as
// model_client (multi_model.h), which loads models through the predictor's load_model(). With a
// `python_env` (a virtual environment's folder) the interpreter runs as that environment's
// python3 would: its site-packages first, then the system's.
// Call once per process, from the main thread. Errors carry the Python exception's type and
// message; the full traceback goes to stderr (the API's log).
StatusOr<std::unique_ptr<replica::Predictor>> LoadPythonPredictor(
    const std::filesystem::path& module_path, const nlohmann::json& config,
    std::vector<NamedModel> models, const spec::MultiModelSpec& multi_model = {},
    const std::filesystem::path& python_env = {});

}  // namespace axon::backends
