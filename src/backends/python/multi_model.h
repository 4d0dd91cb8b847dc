// MultiModel: the C++ side of predictor.models as a mapping (many models that a Python predictor
// loads itself). Creates the ModelCache of model_cache.py, which the PythonPredictor receives as
// its model_client, hands it the predictor's hooks, and keeps what the cache last published
// (its models, their versions, what is loaded) for GET /metadata.
//
// Owned by the PythonPredictor. Create(), Attach() and Close() need the GIL and are called by
// its loading and destroying thread; Snapshot() may be called from any thread without the GIL
// (the cache publishes through a callback that only takes this object's mutex).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "spec/api_spec.h"

namespace axon::backends {

// Hidden like pybind11's own types, which it holds.
class __attribute__((visibility("hidden"))) MultiModel {
 public:
  // Scans the model folders of `spec` (a failure to do so is an error naming it).
  static StatusOr<std::unique_ptr<MultiModel>> Create(const spec::MultiModelSpec& spec);
  MultiModel(const MultiModel&) = delete;
  MultiModel& operator=(const MultiModel&) = delete;
  ~MultiModel();  // needs the GIL if Close() was not called

  // The model_client for PythonPredictor.__init__.
  const pybind11::object& client() const { return cache_; }
  // Takes load_model()/unload_model() of the constructed predictor `instance` and starts
  // watching the folders. Errors say what the predictor lacks.
  Status Attach(const pybind11::object& instance);
  // Stops the watcher thread and drops the cache (and the models it holds).
  void Close();

  // The cache's last description: {"cache_size", "disk_cache_size", "replica", "models",
  // "loaded"}.
  nlohmann::json Snapshot() const;

 private:
  MultiModel() = default;
  void Publish(std::string text);

  mutable std::mutex mu_;
  std::string published_;  // guarded by mu_
  pybind11::object module_;
  pybind11::object cache_;
};

}  // namespace axon::backends
