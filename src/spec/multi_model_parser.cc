// ParseMultiModel and ParseNativeMultiModel (declared in api_parser.h): predictor.models as a
// mapping, {paths: [{name, path}], dir, cache_size, disk_cache_size} (Cortex 0.35-0.42), of a
// Python predictor (which loads the models itself) or of a native one (whose runtime does).
#include <map>
#include <system_error>

#include "common/model_name.h"
#include "spec/api_parser.h"

namespace axon::spec {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxCacheSize = 1'000'000;

void ParsePaths(const Field& field, const fs::path& spec_dir, ErrorList& errors,
                std::vector<ModelPathSpec>* out) {
  if (!field.value.IsSequence() || field.value.size() == 0) {
    errors.Add(field.line, field.path,
               "must be a non-empty list of {name, path}, e.g. [{name: iris, path: models/iris}], "
               "got " +
                   Describe(field.value));
    return;
  }
  std::map<std::string, int> lines;  // model name -> line of its first entry
  for (size_t i = 0; i < field.value.size(); ++i) {
    const std::string path = field.path + "[" + std::to_string(i) + "]";
    const int line = LineOf(field.value[i]);
    FieldMap fields(field.value[i], path, line, SchemaFor("predictor.models.paths"), errors);
    if (!fields.ok()) continue;
    ModelPathSpec model;
    if (const Field* name = fields.Get("name")) {
      if (auto text = ReadScalar(*name, "a model name", errors)) {
        if (!IsModelName(*text)) {
          errors.Add(name->line, name->path,
                     "must be a model name of letters, digits, \"-\", \"_\" and \".\" (not first), "
                     "at most 128 characters, got " +
                         Describe(name->value));
        } else if (auto [first, inserted] = lines.emplace(*text, name->line); !inserted) {
          errors.Add(name->line, name->path,
                     "duplicate model name \"" + *text + "\"; first listed on line " +
                         std::to_string(first->second));
        } else {
          model.name = *text;
        }
      }
    } else {
      errors.Add(line, path + ".name",
                 "is required: the name requests use (?model=NAME) and get_model(NAME) takes");
    }
    if (const Field* model_path = fields.Get("path")) {
      if (auto resolved = ReadModelPath(*model_path, spec_dir, errors)) model.path = *resolved;
    } else {
      errors.Add(line, path + ".path",
                 "is required: the model's file or folder (numbered version folders 1/, 2/ in "
                 "it are versions), e.g. models/iris");
    }
    out->push_back(std::move(model));
  }
}

void ParseDir(const Field& field, const fs::path& spec_dir, ErrorList& errors, std::string* out) {
  std::optional<std::string> resolved = ReadModelPath(field, spec_dir, errors);
  if (!resolved) return;
  std::error_code ec;
  if (!fs::is_directory(*resolved, ec)) {
    errors.Add(field.line, field.path,
               "must be a folder of model folders (one per model, named after it), but " +
                   *resolved + " is a file; list single models under paths: [{name, path}]");
    return;
  }
  *out = *resolved;
}

}  // namespace

void ParseMultiModel(const Field& field, const fs::path& spec_dir, ErrorList& errors,
                     MultiModelSpec* out) {
  FieldMap fields(field.value, field.path, field.line, SchemaFor("predictor.models"), errors);
  if (!fields.ok()) return;
  const Field* paths = fields.Get("paths");
  const Field* dir = fields.Get("dir");
  if (paths == nullptr && dir == nullptr) {
    errors.Add(field.line, field.path,
               "must name its models: paths: [{name, path}], dir: a folder of model folders, or "
               "both");
  }
  if (paths != nullptr) ParsePaths(*paths, spec_dir, errors, &out->paths);
  if (dir != nullptr) ParseDir(*dir, spec_dir, errors, &out->dir);
  const Field* cache_size = fields.Get("cache_size");
  if (cache_size != nullptr) {
    if (auto n = ReadInt(*cache_size, 1, kMaxCacheSize, errors)) out->cache_size = *n;
  }
  if (const Field* disk = fields.Get("disk_cache_size")) {
    if (auto n = ReadInt(*disk, 1, kMaxCacheSize, errors)) {
      out->disk_cache_size = *n;
      if (out->cache_size > 0 && *n < out->cache_size) {
        errors.Add(disk->line, disk->path,
                   "must be >= cache_size (" + std::to_string(out->cache_size) +
                       "): the models loaded in memory are also on disk, got " +
                       std::to_string(*n));
      }
    }
  }
}

void ParseNativeMultiModel(const FieldMap& fields, const Field& models, const std::string& type,
                           const fs::path& spec_dir, ErrorList& errors, PredictorSpec* out) {
  if (!models.value.IsMap()) {
    errors.Add(models.line, models.path,
               "must be a mapping of the " + type +
                   " models this predictor serves, {paths: [{name, path}], dir, cache_size}, "
                   "got " +
                   Describe(models.value));
    return;
  }
  for (std::string_view name : {"model_path", "model_version"}) {
    if (const Field* f = fields.Get(name)) {
      errors.Add(f->line, f->path,
                 "cannot be set with predictor.models: each request picks its model "
                 "(?model=NAME) and version (?version=N)");
    }
  }
  ParseMultiModel(models, spec_dir, errors, &out->multi_model);
  out->model.type = type;
  ParseNativeTensors(fields, errors, &out->model);
  out->path = spec_dir.lexically_normal().string();
}

}  // namespace axon::spec
