#include "protocol/v2_model_inputs.h"

#include "protocol/v2_types.h"
#include "tensor/convert.h"

namespace axon::protocol::v2 {
namespace {

using tensor::Shape;
using tensor::Tensor;
using tensor::TensorInfo;

std::string InputNames(const tensor::Signature& signature) {
  std::string out;
  for (const auto& input : signature.inputs) out += (out.empty() ? "" : ", ") + input.name;
  return out;
}

bool ShapeFits(const Shape& model, const Shape& got) {
  if (model.size() != got.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (model[i] >= 0 && model[i] != got[i]) return false;
  }
  return true;
}

// `t` as the model takes input `info`: its dtype (converted when lossless) and shape.
StatusOr<Tensor> Fit(Tensor t, const TensorInfo& info) {
  const std::string where = "input \"" + info.name + "\": ";
  if (info.shape_known && !ShapeFits(info.shape, t.shape)) {
    return InvalidArgument(where + "the model takes shape " + tensor::ShapeText(info.shape) +
                           " (-1: any size), got " + tensor::ShapeText(t.shape));
  }
  if (t.shape.empty() || t.shape[0] < 1) {
    return InvalidArgument(where + "got shape " + tensor::ShapeText(t.shape) +
                           "; the first dimension is the batch and must be at least 1");
  }
  if (t.dtype == info.dtype) return t;
  if (!tensor::ConvertsLosslessly(t.dtype, info.dtype)) {
    return InvalidArgument(where + "the model takes " + std::string(DataTypeName(info.dtype)) +
                           ", got " + std::string(DataTypeName(t.dtype)) +
                           (t.dtype == tensor::DType::kBytes
                                ? ""
                                : ", which cannot be converted to it without losing values") +
                           "; send " + std::string(DataTypeName(info.dtype)));
  }
  return tensor::ConvertTo(t, info.dtype);
}

}  // namespace

StatusOr<std::vector<Tensor>> InputsForSignature(InferRequest& request,
                                                 const tensor::Signature& signature) {
  for (const Tensor& input : request.inputs) {
    bool known = false;
    for (const auto& info : signature.inputs) known = known || info.name == input.name;
    if (!known) {
      return InvalidArgument("the model has no input \"" + input.name +
                             "\"; its inputs: " + InputNames(signature));
    }
  }
  std::vector<Tensor> out;
  out.reserve(signature.inputs.size());
  for (const auto& info : signature.inputs) {
    Tensor* given = nullptr;
    for (Tensor& input : request.inputs) {
      if (input.name == info.name) given = &input;
    }
    if (given == nullptr) {
      return InvalidArgument("the request lacks input \"" + info.name +
                             "\"; the model's inputs: " + InputNames(signature));
    }
    auto fitted = Fit(std::move(*given), info);
    if (!fitted.ok()) return fitted.status();
    if (!out.empty() && fitted->shape[0] != out.front().shape[0]) {
      return InvalidArgument("inputs \"" + out.front().name + "\" and \"" + info.name +
                             "\" have batch sizes (first dimensions) " +
                             std::to_string(out.front().shape[0]) + " and " +
                             std::to_string(fitted->shape[0]) + "; they must agree");
    }
    out.push_back(std::move(fitted).value());
  }
  request.inputs.clear();
  return out;
}

}  // namespace axon::protocol::v2
