// CheckJobFields and ParseDefinition (declared in api_parser.h): BatchAPI and TaskAPI.
#include "spec/api_parser.h"

namespace axon::spec {
namespace {

constexpr std::string_view kNotForJobs[] = {"autoscaling", "update_strategy"};

}  // namespace

void CheckJobFields(const FieldMap& top, const std::string& kind, ErrorList& errors) {
  const bool job = kind == kBatchKind || kind == kTaskKind;
  if (!job) {
    if (const Field* definition = top.Get("definition")) {
      errors.Add(definition->line, definition->path,
                 "is a field of a TaskAPI only; " + KindWithArticle(kind) +
                     " names its code under predictor");
    }
    return;
  }
  for (std::string_view key : kNotForJobs) {
    if (const Field* field = top.Get(key)) {
      errors.Add(field->line, field->path,
                 "is not a field of " + KindWithArticle(kind) +
                     ": its replicas are the workers of each job, as many as the job's "
                     "submission asks for (\"workers\")");
    }
  }
  if (kind == kTaskKind) {
    if (const Field* predictor = top.Get("predictor")) {
      errors.Add(predictor->line, predictor->path,
                 "is not a field of a TaskAPI: name its code under definition (path: a Python "
                 "file that defines class Task, config, env, dependencies)");
    }
    return;
  }
  if (top.Get("definition") == nullptr) {
    // A BatchAPI's predictor is Python: predict(payload, batch_id) gets a batch of items.
    const Field* predictor = top.Get("predictor");
    const YAML::Node type =
        predictor != nullptr && predictor->value.IsMap() ? predictor->value["type"] : YAML::Node();
    if (type.IsDefined() && type.IsScalar() && type.Scalar() != "python") {
      errors.Add(LineOf(type), "predictor.type",
                 "must be \"python\" for a BatchAPI (class BatchPredictor), got \"" +
                     type.Scalar() + "\"; a native model can be loaded by the Python class");
    }
    const YAML::Node batching = predictor != nullptr && predictor->value.IsMap()
                                    ? predictor->value["server_side_batching"]
                                    : YAML::Node();
    if (batching.IsDefined()) {
      errors.Add(LineOf(batching), "predictor.server_side_batching",
                 "is not for a BatchAPI: each predict() call already gets a batch of the job's "
                 "items (its size is the submission's batch_size)");
    }
  } else {
    const Field* definition = top.Get("definition");
    errors.Add(definition->line, definition->path,
               "is a field of a TaskAPI only; a BatchAPI names its code under predictor");
  }
}

void ParseDefinition(const Field* section, int api_line, const std::filesystem::path& spec_dir,
                     ErrorList& errors, PredictorSpec* out) {
  if (section == nullptr) {
    errors.Add(api_line, "definition",
               "is required: a mapping with at least path, the Python file that defines class "
               "Task, e.g. {path: task.py}");
    return;
  }
  const size_t errors_before = errors.size();
  FieldMap fields(section->value, section->path, section->line, SchemaFor("definition"), errors);
  if (!fields.ok() || errors.size() != errors_before) return;
  if (fields.Get("path") == nullptr) {
    errors.Add(section->line, "definition.path",
               "is required: the Python file that defines class Task, e.g. \"task.py\"");
    return;
  }
  // The rest is read as a Python predictor's fields of the same names. The node is the
  // document's own (a copy would lose the lines of its fields): `type` joins it.
  YAML::Node as_predictor = section->value;
  as_predictor["type"] = "python";
  ParsePredictor(section, api_line, spec_dir, errors, out);
}

}  // namespace axon::spec
