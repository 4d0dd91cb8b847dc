#include "backends/python/model_client.h"

#include <pybind11/embed.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

PYBIND11_EMBEDDED_MODULE(axon_native, m) {
  py::class_<axon::backends::ModelClient>(m, "ModelClient")
      .def("predict", &axon::backends::ModelClient::Predict, py::arg("model_input"),
           py::arg("model_name") = py::none(),
           "Runs a native model: numpy array (or dict of input name -> array) in, array (or "
           "dict of output name -> array) out.")
      .def_property_readonly("models", &axon::backends::ModelClient::Names);
}

namespace axon::backends {
namespace {

std::string NameList(const std::vector<NamedModel>& models) {
  std::string out;
  for (const auto& m : models) out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

bool ShapeFits(const tensor::TensorInfo& info, const tensor::Shape& shape) {
  if (!info.shape_known) return true;
  if (info.shape.size() != shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (info.shape[i] >= 0 && info.shape[i] != shape[i]) return false;
  }
  return true;
}

tensor::Tensor ToTensor(const py::handle& value, const tensor::TensorInfo& info,
                        const std::string& model) {
  py::array array = py::module_::import("numpy").attr("ascontiguousarray")(
      value, py::arg("dtype") = std::string(tensor::DTypeName(info.dtype)));
  tensor::Shape shape(array.shape(), array.shape() + array.ndim());
  if (!ShapeFits(info, shape)) {
    std::string hint;
    if (info.shape_known && shape.size() + 1 == info.shape.size()) {
      hint = "; add the batch dimension first (x[None] for one sample)";
    }
    throw py::value_error("model \"" + model + "\" input \"" + info.name + "\" expects shape " +
                          tensor::ShapeText(info.shape) + " (-1: any), got " +
                          tensor::ShapeText(shape) + hint);
  }
  tensor::Tensor t{info.name, info.dtype, std::move(shape), {}};
  const auto* bytes = static_cast<const std::byte*>(array.data());
  t.data.assign(bytes, bytes + array.nbytes());
  return t;
}

py::array ToNumpy(const tensor::Tensor& t) {
  // Without a base object, pybind11 copies the data into a new array.
  return py::array(py::dtype(std::string(tensor::DTypeName(t.dtype))), t.shape, t.data.data());
}

}  // namespace

std::vector<std::string> ModelClient::Names() const {
  std::vector<std::string> out;
  for (const auto& m : *models_) out.push_back(m.name);
  return out;
}

const NamedModel& ModelClient::Select(const std::optional<std::string>& model_name) const {
  if (models_->empty()) {
    throw py::value_error(
        "this API has no native models; list them in the spec under predictor.models");
  }
  if (!model_name) {
    if (models_->size() == 1) return models_->front();
    throw py::value_error("this API has several models (" + NameList(*models_) +
                          "); pass model_name=");
  }
  for (const auto& m : *models_) {
    if (m.name == *model_name) return m;
  }
  throw py::value_error("no model named \"" + *model_name + "\"; models: " + NameList(*models_));
}

py::object ModelClient::Predict(const py::object& model_input,
                                const std::optional<std::string>& model_name) const {
  const NamedModel& chosen = Select(model_name);
  const tensor::Signature& signature = chosen.model->signature();
  std::vector<tensor::Tensor> inputs;
  if (py::isinstance<py::dict>(model_input)) {
    const py::dict named = model_input.cast<py::dict>();
    for (const auto& info : signature.inputs) {
      if (!named.contains(info.name)) {
        throw py::value_error("model \"" + chosen.name + "\" needs input \"" + info.name + "\"");
      }
      inputs.push_back(ToTensor(named[info.name.c_str()], info, chosen.name));
    }
  } else if (signature.inputs.size() == 1) {
    inputs.push_back(ToTensor(model_input, signature.inputs[0], chosen.name));
  } else {
    throw py::value_error("model \"" + chosen.name +
                          "\" has several inputs; pass a dict of "
                          "input name -> array");
  }
  StatusOr<std::vector<tensor::Tensor>> outputs = Internal("not run");
  {
    py::gil_scoped_release release;
    outputs = chosen.model->Run(inputs);
  }
  if (!outputs.ok()) {
    if (outputs.status().code() == StatusCode::kInvalidArgument) {
      throw py::value_error(outputs.status().message());
    }
    throw std::runtime_error(outputs.status().message());
  }
  if (outputs->size() == 1) return ToNumpy(outputs->front());
  py::dict named;
  for (const auto& t : *outputs) named[t.name.c_str()] = ToNumpy(t);
  return named;
}

py::object MakeModelClient(const std::vector<NamedModel>* models) {
  py::module_::import("axon_native");
  return py::cast(ModelClient(models));
}

}  // namespace axon::backends
