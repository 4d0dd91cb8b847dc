// Reads the graph inputs and outputs (names, element types, shapes) of an ONNX model file, which
// OpenCV DNN does not expose. A small reader of the protobuf wire format, for just the fields
// of onnx.proto it needs: ModelProto.graph, GraphProto.{input, output, initializer},
// ValueInfoProto, TypeProto.Tensor and TensorShapeProto. Pure; thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"
#include "tensor/tensor.h"

namespace axon::backends {

// Graph inputs that are initializers (weights, in old exports) are left out. Dimensions
// without a fixed value (a name like "batch", or none) are -1.
StatusOr<tensor::Signature> ReadOnnxSignature(std::string_view model_bytes);

}  // namespace axon::backends
