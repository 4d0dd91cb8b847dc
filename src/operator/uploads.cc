#include "operator/uploads.h"

#include <fstream>

#include "common/files.h"
#include "kube/base64.h"

namespace axon::operator_ {
namespace fs = std::filesystem;

StatusOr<fs::path> WriteUpload(const fs::path& root, const nlohmann::json& files) {
  if (!files.is_object()) {
    return InvalidArgument("deploy: \"files\" must be an object of relative path -> base64");
  }
  const fs::path dir = root / ("upload-" + RandomHex(8));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create an upload folder: " + ec.message());
  const auto fail = [&](Status s) {
    fs::remove_all(dir, ec);
    return s;
  };
  for (const auto& [name, content] : files.items()) {
    const fs::path relative = fs::path(name).lexically_normal();
    if (name.empty() || relative.is_absolute() || relative.empty() || *relative.begin() == ".." ||
        relative == ".") {
      return fail(InvalidArgument("deploy: files[\"" + name +
                                  "\"]: not a path inside the spec file's folder"));
    }
    if (!content.is_string()) {
      return fail(InvalidArgument("deploy: files[\"" + name + "\"] is not a base64 string"));
    }
    auto bytes = kube::DecodeBase64(content.get<std::string>());
    if (!bytes.ok()) {
      return fail(InvalidArgument("deploy: files[\"" + name + "\"]: " + bytes.status().message()));
    }
    const fs::path target = dir / relative;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    if (!out) return fail(Internal("cannot write an uploaded file: " + relative.string()));
  }
  return dir;
}

}  // namespace axon::operator_
