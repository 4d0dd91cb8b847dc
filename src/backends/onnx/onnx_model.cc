// The ONNX backend: OpenCV DNN runs the graph; onnx_signature.h reads its inputs and outputs.
// Built as the module libaxon_onnx.so.
//
// Threading: a cv::dnn::Net is not thread-safe, so the model keeps one Net per thread that may
// call Run() (ModelOptions::concurrency), each behind its own mutex.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <tuple>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "backends/onnx/onnx_signature.h"
#include "common/files.h"
#include "replica/model.h"

namespace axon::backends {
namespace {

using replica::Model;
using replica::ModelOptions;

class OnnxModel final : public Model {
 public:
  explicit OnnxModel(tensor::Signature signature) : signature_(std::move(signature)) {}

  const tensor::Signature& signature() const override { return signature_; }

  Status AddNet(const std::string& bytes) {
    auto slot = std::make_unique<NetSlot>();
    slot->net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    if (slot->net.empty()) return InvalidArgument("OpenCV DNN could not read the graph");
    slot->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    slot->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    slot->output_layers = slot->net.getUnconnectedOutLayersNames();
    if (slot->output_layers.size() != signature_.outputs.size()) {
      return InvalidArgument("OpenCV DNN finds " + std::to_string(slot->output_layers.size()) +
                             " outputs, the graph declares " +
                             std::to_string(signature_.outputs.size()));
    }
    nets_.push_back(std::move(slot));
    return OkStatus();
  }

  StatusOr<std::vector<tensor::Tensor>> Run(const std::vector<tensor::Tensor>& inputs) override {
    NetSlot& slot = Acquire();
    std::lock_guard lock(slot.mu, std::adopt_lock);
    try {
      for (const auto& input : inputs) {
        std::vector<int> dims(input.shape.begin(), input.shape.end());
        cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F,
                     const_cast<std::byte*>(input.data.data()));
        slot.net.setInput(blob, input.name);
      }
      std::vector<cv::Mat> results;
      slot.net.forward(results, slot.output_layers);
      std::vector<tensor::Tensor> outputs;
      for (size_t i = 0; i < results.size(); ++i) {
        const cv::Mat& m = results[i];
        if (m.type() != CV_32F) return Internal("OpenCV DNN returned a non-float32 output");
        tensor::Shape shape(m.size.p, m.size.p + m.dims);
        tensor::Tensor out{signature_.outputs[i].name, tensor::DType::kFloat32, shape, {}};
        const auto* bytes = reinterpret_cast<const std::byte*>(m.ptr<float>());
        out.data.assign(bytes, bytes + m.total() * sizeof(float));
        outputs.push_back(std::move(out));
      }
      return outputs;
    } catch (const cv::Exception& e) {
      return Internal("the ONNX model failed in OpenCV DNN: " + e.msg);
    }
  }

 private:
  struct NetSlot {
    std::mutex mu;
    cv::dnn::Net net;
    std::vector<std::string> output_layers;
  };

  // A locked slot: a free one if any, else waits for one (callers are bounded by concurrency).
  NetSlot& Acquire() {
    const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < nets_.size(); ++i) {
      NetSlot& slot = *nets_[(start + i) % nets_.size()];
      if (slot.mu.try_lock()) return slot;
    }
    NetSlot& slot = *nets_[start % nets_.size()];
    slot.mu.lock();
    return slot;
  }

  const tensor::Signature signature_;
  std::vector<std::unique_ptr<NetSlot>> nets_;
  std::atomic<size_t> next_{0};
};

bool SameShape(const tensor::Shape& a, const tensor::Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

// Tensors the spec declares must agree with the graph (which stays the source of truth).
Status CheckDeclared(const std::vector<tensor::TensorInfo>& declared,
                     const std::vector<tensor::TensorInfo>& graph, const char* what) {
  for (const auto& d : declared) {
    auto it =
        std::find_if(graph.begin(), graph.end(), [&](const auto& g) { return g.name == d.name; });
    if (it == graph.end()) {
      return InvalidArgument("predictor." + std::string(what) + " names \"" + d.name +
                             "\", which the graph does not have");
    }
    if (it->dtype != d.dtype || (it->shape_known && !SameShape(it->shape, d.shape))) {
      return InvalidArgument("predictor." + std::string(what) + " declares \"" + d.name + "\" as " +
                             std::string(tensor::DTypeName(d.dtype)) + " " +
                             tensor::ShapeText(d.shape) + ", the graph has " +
                             std::string(tensor::DTypeName(it->dtype)) + " " +
                             tensor::ShapeText(it->shape));
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Model>> LoadOnnx(const ModelOptions& options) {
  const std::string where = "cannot load ONNX model " + options.file.string() + ": ";
  auto bytes = ReadFile(options.file);
  if (!bytes.ok()) return InvalidArgument(where + bytes.status().message());
  auto signature = ReadOnnxSignature(*bytes);
  if (!signature.ok()) return InvalidArgument(where + signature.status().message());
  for (auto [declared, graph, what] :
       {std::tuple(&options.inputs, &signature->inputs, "inputs"),
        std::tuple(&options.outputs, &signature->outputs, "outputs")}) {
    if (Status s = CheckDeclared(*declared, *graph, what); !s.ok()) {
      return InvalidArgument(where + s.message());
    }
  }
  for (const auto& input : signature->inputs) {
    if (input.dtype != tensor::DType::kFloat32) {
      return InvalidArgument(where + "input \"" + input.name + "\" is " +
                             std::string(tensor::DTypeName(input.dtype)) +
                             "; OpenCV DNN runs float32 inputs only");
    }
  }
  cv::setNumThreads(options.intra_op_threads);
  auto model = std::make_unique<OnnxModel>(std::move(signature).value());
  try {
    for (int i = 0; i < std::max(1, options.concurrency); ++i) {
      if (Status s = model->AddNet(*bytes); !s.ok()) return InvalidArgument(where + s.message());
    }
  } catch (const cv::Exception& e) {
    return InvalidArgument(where + e.msg);
  }
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace
}  // namespace axon::backends

AXON_MODEL_BACKEND(axon::backends::LoadOnnx)
