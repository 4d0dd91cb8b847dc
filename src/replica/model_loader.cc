#include "replica/model_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <system_error>

#include <spdlog/spdlog.h>

#include "common/install_layout.h"

namespace axon::replica {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> ExtensionsFor(std::string_view type) {
  if (type == "torchscript") return {".pt", ".pth", ".torchscript"};
  if (type == "onnx") return {".onnx"};
  return {".json", ".ubj", ".model", ".bin"};  // xgboost
}

std::string Join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (auto part : parts) out += (out.empty() ? "" : ", ") + std::string(part);
  return out;
}

std::optional<int64_t> VersionNumber(const fs::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  if (name.empty() || name.size() > 18 || !std::all_of(name.begin(), name.end(), ::isdigit)) {
    return std::nullopt;
  }
  if (!entry.is_directory()) return std::nullopt;
  return std::stoll(name);
}

StatusOr<fs::path> ModelFileIn(const fs::path& folder, std::string_view type) {
  const auto extensions = ExtensionsFor(type);
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() &&
        std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) {
      found.push_back(entry.path());
    }
  }
  if (ec) return NotFound("cannot list " + folder.string() + ": " + ec.message());
  if (found.empty()) {
    return NotFound("no " + std::string(type) + " model file (" + Join(extensions) + ") in " +
                    folder.string());
  }
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    return InvalidArgument("several " + std::string(type) + " model files in " + folder.string() +
                           " (" + found[0].filename().string() + ", " +
                           found[1].filename().string() + "); set model_path to the one to serve");
  }
  return found[0];
}

std::vector<tensor::TensorInfo> ToInfos(const std::vector<spec::TensorDecl>& decls) {
  std::vector<tensor::TensorInfo> out;
  for (const auto& decl : decls) {
    tensor::Shape shape{-1};
    shape.insert(shape.end(), decl.shape.begin(), decl.shape.end());
    out.push_back({decl.name, *tensor::DTypeFromName(decl.dtype), std::move(shape)});
  }
  return out;
}

// The module's entry point, loaded once per type.
StatusOr<ModelEntryPointFn> EntryPointFor(const std::string& type) {
  static std::mutex mu;
  static std::map<std::string, ModelEntryPointFn> loaded;
  std::lock_guard lock(mu);
  if (auto it = loaded.find(type); it != loaded.end()) return it->second;
  const fs::path module = ModulePath(type);
  const auto start = std::chrono::steady_clock::now();
  void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return Internal("cannot load the " + type + " runtime " + module.string() + ": " + dlerror() +
                    " (install the axon-runtime-" + type + " package, or complete the build)");
  }
  auto fn = reinterpret_cast<ModelEntryPointFn>(dlsym(handle, kModelEntryPoint));
  if (fn == nullptr) return Internal(module.string() + " lacks " + kModelEntryPoint);
  spdlog::info("{} runtime loaded in {} ms", type,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  loaded[type] = fn;
  return fn;
}

}  // namespace

Status PreloadRuntime(const std::string& type) {
  auto fn = EntryPointFor(type);
  return fn.ok() ? OkStatus() : fn.status();
}

StatusOr<ModelFile> ResolveModelFile(const spec::ModelSpec& model) {
  const fs::path root(model.model_path);
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    if (model.model_version != 0) {
      return InvalidArgument("model_version " + std::to_string(model.model_version) +
                             " needs model_path to be a folder of numbered versions, but " +
                             root.string() + " is a file");
    }
    return ModelFile{root, 0};
  }
  if (!fs::is_directory(root, ec)) {
    return NotFound("model_path " + root.string() + " does not exist");
  }
  std::map<int64_t, fs::path> versions;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (auto n = VersionNumber(entry)) versions[*n] = entry.path();
  }
  if (versions.empty()) {
    if (model.model_version != 0) {
      return NotFound("model_version " + std::to_string(model.model_version) +
                      " was asked for, but " + root.string() + " has no numbered version folders");
    }
    auto file = ModelFileIn(root, model.type);
    if (!file.ok()) return file.status();
    return ModelFile{*file, 0};
  }
  auto chosen =
      model.model_version != 0 ? versions.find(model.model_version) : std::prev(versions.end());
  if (chosen == versions.end()) {
    std::string have;
    for (const auto& [n, path] : versions) have += (have.empty() ? "" : ", ") + std::to_string(n);
    return NotFound("model_version " + std::to_string(model.model_version) + " not found in " +
                    root.string() + " (versions there: " + have + ")");
  }
  auto file = ModelFileIn(chosen->second, model.type);
  if (!file.ok()) return file.status();
  return ModelFile{*file, chosen->first};
}

nlohmann::json LoadedModel::Describe() const {
  nlohmann::json out = tensor::SignatureToJson(model->signature());
  out["type"] = type;
  out["model_version"] = file.version;
  return out;
}

StatusOr<LoadedModel> LoadModel(const spec::ModelSpec& model, int concurrency,
                                int intra_op_threads) {
  auto file = ResolveModelFile(model);
  if (!file.ok()) return file.status();
  auto entry = EntryPointFor(model.type);
  if (!entry.ok()) return entry.status();
  const ModelOptions options{.file = file->path,
                             .inputs = ToInfos(model.inputs),
                             .outputs = ToInfos(model.outputs),
                             .concurrency = concurrency,
                             .intra_op_threads = intra_op_threads};
  StatusOr<std::unique_ptr<Model>> loaded = Internal("the backend did not answer");
  (*entry)(options, &loaded);
  if (!loaded.ok()) return loaded.status();
  return LoadedModel{std::move(loaded).value(), std::move(file).value(), model.type};
}

}  // namespace axon::replica
