// ParseNativeModel, ParseModels and ParseBatching (declared in api_parser.h): the fields of
// native model predictors, of a Python predictor's `models`, and server_side_batching.
#include <system_error>

#include "common/model_url.h"
#include "spec/api_parser.h"
#include "spec/nearest_name.h"
#include "spec/quantity.h"
#include "tensor/tensor.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNativeTypes[] = {"torchscript", "onnx", "xgboost"};

void ParseShape(const Field& field, ErrorList& errors, std::vector<int64_t>* out) {
  const char* kExpected = "a list of sizes per instance (without the batch dimension), -1 for any";
  if (!field.value.IsSequence()) {
    errors.Add(field.line, field.path,
               std::string("must be ") + kExpected + ", got " + Describe(field.value));
    return;
  }
  for (size_t i = 0; i < field.value.size(); ++i) {
    const Field dim{field.path + "[" + std::to_string(i) + "]", LineOf(field.value[i]),
                    field.value[i]};
    if (std::optional<int64_t> n = ReadInt(dim, -1, 1 << 30, errors)) {
      if (*n == 0) {
        errors.Add(dim.line, dim.path, "must be a size >= 1, or -1 for any size, got 0");
      } else {
        out->push_back(*n);
      }
    }
  }
}

void ParseTensors(const Field& field, ErrorList& errors, std::vector<TensorDecl>* out) {
  if (!field.value.IsSequence() || field.value.size() == 0) {
    errors.Add(field.line, field.path,
               "must be a list of {name, dtype, shape}, e.g. [{name: x, dtype: float32, shape: "
               "[64]}], got " +
                   Describe(field.value));
    return;
  }
  for (size_t i = 0; i < field.value.size(); ++i) {
    const std::string path = field.path + "[" + std::to_string(i) + "]";
    FieldMap fields(field.value[i], path, LineOf(field.value[i]), SchemaFor("tensor"), errors);
    if (!fields.ok()) continue;
    TensorDecl decl;
    if (const Field* name = fields.Get("name")) {
      if (auto text = ReadScalar(*name, "a tensor name", errors)) decl.name = *text;
    } else {
      errors.Add(LineOf(field.value[i]), path + ".name", "is required");
    }
    if (const Field* dtype = fields.Get("dtype")) {
      if (auto text = ReadScalar(*dtype, "a dtype", errors)) {
        if (auto d = tensor::DTypeFromName(*text); d && tensor::IsNativeDType(*d)) {
          decl.dtype = *text;
        } else {
          errors.Add(
              dtype->line, dtype->path,
              "must be one of " + tensor::NativeDTypeNames() + ", got " + Describe(dtype->value));
        }
      }
    }
    if (const Field* shape = fields.Get("shape")) {
      ParseShape(*shape, errors, &decl.shape);
    } else {
      errors.Add(LineOf(field.value[i]), path + ".shape",
                 "is required: one instance's shape, e.g. [64] or [3, 32, 32]");
    }
    out->push_back(std::move(decl));
  }
}

// model_path, model_version, inputs and outputs of `fields` into `out`.
void ParseModelFields(const FieldMap& fields, int line, const std::string& prefix,
                      const fs::path& spec_dir, ErrorList& errors, ModelSpec* out) {
  const Field* path = fields.Get("model_path");
  const std::optional<std::string> url =
      path != nullptr && path->value.IsScalar() && IsModelUrl(path->value.Scalar())
          ? std::optional(path->value.Scalar())
          : std::nullopt;
  if (url) {
    if (prefix != "predictor.") {
      errors.Add(path->line, path->path,
                 "takes a URL only as predictor.model_path (one native model); download the "
                 "model next to the spec and name its path here");
    } else if (auto parsed = ParseModelUrl(*url); !parsed.ok()) {
      errors.Add(path->line, path->path,
                 "must be a URL of one model file, e.g. https://models.example.com/mlp/model.pt: " +
                     std::string(parsed.status().message()) + " in " + *url);
    } else if (fields.Get("model_version") != nullptr) {
      errors.Add(path->line, path->path,
                 "is a URL of one model file, which has no numbered versions: leave out "
                 "model_version");
    } else {
      out->model_path = *url;
    }
  } else if (path != nullptr) {
    if (auto resolved = ReadModelPath(*path, spec_dir, errors)) out->model_path = *resolved;
  } else {
    errors.Add(line, prefix + "model_path",
               "is required: the model file, or a folder of numbered version folders (1/, 2/)");
  }
  if (const Field* version = fields.Get("model_version")) {
    if (auto n = ReadInt(*version, 1, std::numeric_limits<int64_t>::max(), errors)) {
      out->model_version = *n;
    }
  }
  ParseNativeTensors(fields, errors, out);
}

}  // namespace

void ParseNativeTensors(const FieldMap& fields, ErrorList& errors, ModelSpec* out) {
  if (const Field* inputs = fields.Get("inputs")) ParseTensors(*inputs, errors, &out->inputs);
  if (const Field* outputs = fields.Get("outputs")) ParseTensors(*outputs, errors, &out->outputs);
}

std::optional<std::string> ReadModelPath(const Field& field, const fs::path& spec_dir,
                                         ErrorList& errors) {
  std::optional<std::string> text = ReadScalar(field, "a path to a model file or folder", errors);
  if (!text) return std::nullopt;
  fs::path path(*text);
  if (path.is_relative()) path = spec_dir / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    errors.Add(field.line, field.path,
               "not found: " + path.string() +
                   " (relative paths are resolved against the spec file's folder, " +
                   spec_dir.string() + "; build the model first?)");
    return std::nullopt;
  }
  return path.string();
}

void ParseNativeModel(const FieldMap& fields, int line, const std::string& type,
                      const fs::path& spec_dir, ErrorList& errors, ModelSpec* out) {
  out->type = type;
  ParseModelFields(fields, line, "predictor.", spec_dir, errors, out);
}

void ParseModels(const Field& field, const fs::path& spec_dir, ErrorList& errors,
                 std::vector<ModelSpec>* out) {
  if (!field.value.IsSequence() || field.value.size() == 0) {
    errors.Add(field.line, field.path,
               "must be a list of native models {name, type, model_path}, e.g. [{name: resnet, "
               "type: onnx, model_path: model}], or a mapping of models the predictor loads "
               "itself, {paths: [{name, path}], dir, cache_size}; got " +
                   Describe(field.value));
    return;
  }
  for (size_t i = 0; i < field.value.size(); ++i) {
    const std::string path = field.path + "[" + std::to_string(i) + "]";
    const int line = LineOf(field.value[i]);
    FieldMap fields(field.value[i], path, line, SchemaFor("predictor.models[]"), errors);
    if (!fields.ok()) continue;
    ModelSpec model;
    if (const Field* name = fields.Get("name")) {
      if (auto text = ReadScalar(*name, "a model name", errors)) model.name = *text;
      for (const auto& other : *out) {
        if (!model.name.empty() && other.name == model.name) {
          errors.Add(name->line, name->path, "duplicate model name \"" + model.name + "\"");
        }
      }
    } else {
      errors.Add(line, path + ".name", "is required: the name predict(..., model_name=) uses");
    }
    if (const Field* type = fields.Get("type")) {
      if (auto text = ReadScalar(*type, "a model type", errors)) {
        if (ContainsName(kNativeTypes, *text)) {
          model.type = *text;
        } else {
          errors.Add(
              type->line, type->path,
              "must be one of " + QuotedList(kNativeTypes) + ", got " + Describe(type->value));
        }
      }
    } else {
      errors.Add(line, path + ".type", "is required: one of " + QuotedList(kNativeTypes));
    }
    ParseModelFields(fields, line, path + ".", spec_dir, errors, &model);
    out->push_back(std::move(model));
  }
}

void ParseBatching(const Field& field, ErrorList& errors, BatchingSpec* out) {
  FieldMap fields(field.value, field.path, field.line, SchemaFor("predictor.server_side_batching"),
                  errors);
  if (!fields.ok()) return;
  if (const Field* size = fields.Get("max_batch_size")) {
    if (auto n = ReadInt(*size, 1, 1024, errors)) out->max_batch_size = *n;
  } else {
    errors.Add(field.line, field.path + ".max_batch_size",
               "is required: the most requests one batch may hold, e.g. 32");
  }
  // Without batch_interval (or with 0) batching is adaptive: a batch leaves as soon as a
  // worker is free (replica/batcher.h).
  if (const Field* interval = fields.Get("batch_interval")) {
    auto parse = [](std::string_view text) -> StatusOr<Millis> {
      StatusOr<Millis> d = ParseDuration(text);
      if (d.ok() && d->count() > 60'000) {
        return InvalidArgument("must be a duration from 0 (adaptive batching) to 60s");
      }
      return d;
    };
    if (auto d = ReadParsed<Millis>(*interval, "a duration like \"10ms\" or \"0.1s\", or 0", +parse,
                                    errors)) {
      out->batch_interval = *d;
    }
  }
}

}  // namespace axon::spec
