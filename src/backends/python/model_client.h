// model_client: what a PythonPredictor's __init__ receives to run native models in-process.
// `predict(model_input, model_name=None)` takes a numpy array (or a dict of input name ->
// array) and returns an array (or a dict of output name -> array); the model runs in C++ with
// the GIL released. Exposed to Python as the embedded module `axon_native`.
//
// Threading: called from Python, so with the GIL held; the models are thread-safe.
#pragma once

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include "backends/python/python_predictor.h"

namespace axon::backends {

class ModelClient {
 public:
  explicit ModelClient(const std::vector<NamedModel>* models) : models_(models) {}

  pybind11::object Predict(const pybind11::object& model_input,
                           const std::optional<std::string>& model_name) const;
  std::vector<std::string> Names() const;

 private:
  const NamedModel& Select(const std::optional<std::string>& model_name) const;
  const std::vector<NamedModel>* models_;  // owned by the PythonPredictor
};

// Creates the Python object for `models` (kept alive by the caller).
pybind11::object MakeModelClient(const std::vector<NamedModel>* models);

}  // namespace axon::backends
