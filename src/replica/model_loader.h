// Finds a native model's file and loads it through its backend module (model.h).
//
// Call from the replica's loading thread; the returned model is then shared by the execution
// threads. Backend modules are looked up by ModulePath() (common/install_layout.h: lib/axon/
// of the build folder or of the installed prefix) and are never unloaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "replica/model.h"
#include "spec/api_spec.h"

namespace axon::replica {

struct ModelFile {
  std::filesystem::path path;
  int64_t version = 0;  // the numbered folder it came from; 0 when model_path names no versions
};

// model_path is a model file, a folder holding one, or a folder of numbered version folders
// (1/, 2/, ...), of which model_version or else the highest is used. Errors say what was
// looked for where.
StatusOr<ModelFile> ResolveModelFile(const spec::ModelSpec& model);

struct LoadedModel {
  std::unique_ptr<Model> model;
  ModelFile file;
  std::string type;

  // {"type", "model_version", "inputs", "outputs"} for metadata answers (no server paths).
  nlohmann::json Describe() const;
};

// Loads the backend module of native type `type` (torchscript, onnx, xgboost) with its
// libraries, once per process; LoadModel() of that type then starts at the model. For a standby
// replica (replica/standby.h).
Status PreloadRuntime(const std::string& type);

// `concurrency`: threads that will call Run() at once.
StatusOr<LoadedModel> LoadModel(const spec::ModelSpec& model, int concurrency,
                                int intra_op_threads);

}  // namespace axon::replica
