// The TorchScript backend (libtorch). The only translation unit that includes torch headers;
// built as the module libaxon_torchscript.so.
//
// Threading: torch::jit::Module::forward is safe to call concurrently under InferenceMode, so
// Run() does not lock. Intra-op threads are set once per process (libtorch keeps them global).
#include <ATen/Parallel.h>
#include <torch/script.h>

#include "replica/model.h"

namespace axon::backends {
namespace {

using replica::Model;
using replica::ModelOptions;
using tensor::DType;
using tensor::TensorInfo;

std::optional<torch::ScalarType> TorchType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return torch::kFloat32;
    case DType::kFloat64:
      return torch::kFloat64;
    case DType::kInt32:
      return torch::kInt32;
    case DType::kInt64:
      return torch::kInt64;
    case DType::kUInt8:
      return torch::kUInt8;
    case DType::kBool:
      return torch::kBool;
    case DType::kInt8:
      return torch::kInt8;
    case DType::kInt16:
      return torch::kInt16;
    case DType::kFloat16:
      return torch::kFloat16;
    default:  // libtorch 1.13 has no uint16, uint32, uint64 or byte strings
      return std::nullopt;
  }
}

std::optional<DType> AxonType(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return DType::kFloat32;
    case torch::kFloat64:
      return DType::kFloat64;
    case torch::kInt32:
      return DType::kInt32;
    case torch::kInt64:
      return DType::kInt64;
    case torch::kUInt8:
      return DType::kUInt8;
    case torch::kBool:
      return DType::kBool;
    case torch::kInt8:
      return DType::kInt8;
    case torch::kInt16:
      return DType::kInt16;
    case torch::kFloat16:
      return DType::kFloat16;
    default:
      return std::nullopt;
  }
}

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(torch::jit::Module module, tensor::Signature signature)
      : module_(std::move(module)), signature_(std::move(signature)) {}

  const tensor::Signature& signature() const override { return signature_; }

  StatusOr<std::vector<tensor::Tensor>> Run(const std::vector<tensor::Tensor>& inputs) override {
    try {
      c10::InferenceMode guard;
      std::vector<torch::jit::IValue> args;
      args.reserve(inputs.size());
      for (const auto& input : inputs) {
        // from_blob does not copy; `inputs` outlive the call.
        args.emplace_back(torch::from_blob(const_cast<std::byte*>(input.data.data()), input.shape,
                                           torch::TensorOptions().dtype(*TorchType(input.dtype))));
      }
      torch::jit::IValue result = module_.forward(std::move(args));
      std::vector<torch::Tensor> outputs;
      if (result.isTensor()) {
        outputs.push_back(result.toTensor());
      } else if (result.isTuple()) {
        for (const auto& element : result.toTuple()->elements()) {
          if (!element.isTensor()) return Internal("forward() returned a tuple with a non-tensor");
          outputs.push_back(element.toTensor());
        }
      } else {
        return Internal("forward() must return a tensor or a tuple of tensors, got " +
                        result.tagKind());
      }
      return Convert(outputs);
    } catch (const c10::Error& e) {
      return Internal(std::string("the TorchScript model failed: ") + e.what_without_backtrace());
    } catch (const std::exception& e) {
      return Internal(std::string("the TorchScript model failed: ") + e.what());
    }
  }

 private:
  StatusOr<std::vector<tensor::Tensor>> Convert(const std::vector<torch::Tensor>& outputs) const {
    std::vector<tensor::Tensor> out;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const torch::Tensor t = outputs[i].contiguous();
      const std::optional<DType> dtype = AxonType(t.scalar_type());
      if (!dtype) {
        return Internal("output " + std::to_string(i) + " has an unsupported dtype " +
                        std::string(c10::toString(t.scalar_type())));
      }
      const std::string name = i < signature_.outputs.size() ? signature_.outputs[i].name
                                                             : "output_" + std::to_string(i);
      tensor::Tensor converted{name, *dtype, t.sizes().vec(), {}};
      const auto* bytes = static_cast<const std::byte*>(t.data_ptr());
      converted.data.assign(bytes, bytes + t.nbytes());
      out.push_back(std::move(converted));
    }
    return out;
  }

  torch::jit::Module module_;
  const tensor::Signature signature_;
};

// Inputs named after forward()'s parameters; types and shapes from the spec where declared.
StatusOr<tensor::Signature> SignatureOf(torch::jit::Module& module, const ModelOptions& options) {
  tensor::Signature signature;
  const auto& schema = module.get_method("forward").function().getSchema();
  std::vector<std::string> params;
  for (const auto& arg : schema.arguments()) {
    if (arg.name() != "self") params.push_back(arg.name());
  }
  if (!options.inputs.empty()) {
    if (options.inputs.size() != params.size()) {
      return InvalidArgument("predictor.inputs declares " + std::to_string(options.inputs.size()) +
                             " inputs, but the model's forward() takes " +
                             std::to_string(params.size()));
    }
    signature.inputs = options.inputs;
  } else {
    for (const auto& name : params) {
      signature.inputs.push_back({name, DType::kFloat32, {}, /*shape_known=*/false});
    }
  }
  signature.outputs = options.outputs;
  if (signature.outputs.empty()) {
    signature.outputs.push_back({"output", DType::kFloat32, {}, /*shape_known=*/false});
  }
  return signature;
}

StatusOr<std::unique_ptr<Model>> LoadTorchScript(const ModelOptions& options) {
  static std::once_flag threads_once;
  std::call_once(threads_once, [&] {
    at::set_num_threads(options.intra_op_threads);
    at::set_num_interop_threads(1);
  });
  try {
    torch::jit::Module module = torch::jit::load(options.file.string(), torch::kCPU);
    module.eval();
    auto signature = SignatureOf(module, options);
    if (!signature.ok()) return signature.status();
    return std::unique_ptr<Model>(
        std::make_unique<TorchScriptModel>(std::move(module), std::move(signature).value()));
  } catch (const c10::Error& e) {
    return InvalidArgument("cannot load TorchScript model " + options.file.string() + ": " +
                           std::string(e.what_without_backtrace()) +
                           " (save it with torch.jit.save(torch.jit.script(model), path))");
  } catch (const std::exception& e) {
    return InvalidArgument("cannot load TorchScript model " + options.file.string() + ": " +
                           e.what());
  }
}

}  // namespace
}  // namespace axon::backends

AXON_MODEL_BACKEND(axon::backends::LoadTorchScript)
