#include "backends/python/multi_model.h"

#include <pybind11/embed.h>

#include "backends/python/model_cache_source.h"

namespace axon::backends {
namespace {

namespace py = pybind11;

// The error a Python exception stands for: the message alone for the cache's own SetupError.
Status FromPython(const py::error_already_set& e, const py::object& module) {
  if (module && e.matches(module.attr("SetupError"))) {
    return InvalidArgument(std::string(py::str(e.value())));
  }
  return Internal(std::string("the model cache failed: ") + e.what());
}

}  // namespace

StatusOr<std::unique_ptr<MultiModel>> MultiModel::Create(const spec::MultiModelSpec& spec) {
  std::unique_ptr<MultiModel> out(new MultiModel());
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& p : spec.paths) paths.push_back({{"name", p.name}, {"path", p.path}});
  const nlohmann::json config = {{"paths", std::move(paths)},
                                 {"dir", spec.dir},
                                 {"cache_size", spec.cache_size},
                                 {"disk_cache_size", spec.disk_cache_size}};
  try {
    out->module_ = py::module_::import("types").attr("ModuleType")("axon_model_cache");
    py::exec(kModelCacheSource, out->module_.attr("__dict__"));
    MultiModel* self = out.get();
    py::object publish =
        py::cpp_function([self](std::string text) { self->Publish(std::move(text)); });
    out->cache_ = out->module_.attr("ModelCache")(
        py::module_::import("json").attr("loads")(config.dump()), publish);
  } catch (const py::error_already_set& e) {
    return FromPython(e, out->module_);
  }
  return out;
}

MultiModel::~MultiModel() { Close(); }

Status MultiModel::Attach(const py::object& instance) {
  try {
    cache_.attr("attach")(instance);
    cache_.attr("start")();
  } catch (const py::error_already_set& e) {
    return FromPython(e, module_);
  }
  return OkStatus();
}

void MultiModel::Close() {
  if (!cache_) return;
  try {
    cache_.attr("close")();
  } catch (const py::error_already_set&) {  // shutting down: nothing left to tell
  }
  cache_ = py::object();
  module_ = py::object();
}

void MultiModel::Publish(std::string text) {
  std::lock_guard lock(mu_);
  published_ = std::move(text);
}

nlohmann::json MultiModel::Snapshot() const {
  std::string text;
  {
    std::lock_guard lock(mu_);
    text = published_;
  }
  if (text.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace axon::backends
