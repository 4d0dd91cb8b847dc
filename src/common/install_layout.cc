#include "common/install_layout.h"

#include <unistd.h>

#include "common/process.h"

namespace axon {

namespace fs = std::filesystem;

fs::path InstallPrefix(const fs::path& exe_dir) {
  fs::path dir = exe_dir.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "/usr/libexec/axon/"
  const fs::path parent = dir.parent_path();
  if (dir.filename() == "axon" && parent.filename() == "libexec") return parent.parent_path();
  return parent;
}

StatusOr<fs::path> ProgramPath(std::string_view name, const fs::path& exe_dir) {
  const fs::path prefix = InstallPrefix(exe_dir);
  const fs::path candidates[] = {prefix / "libexec" / "axon", exe_dir.lexically_normal()};
  for (const auto& dir : candidates) {
    const fs::path path = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0) return path;
  }
  return NotFound("cannot find " + std::string(name) + " in " + candidates[0].string() + " or " +
                  candidates[1].string() +
                  " (install the axon package, or run the axon of a complete build folder)");
}

StatusOr<fs::path> ProgramPath(std::string_view name) { return ProgramPath(name, ExecutableDir()); }

fs::path ModulePath(std::string_view type, const fs::path& exe_dir) {
  return InstallPrefix(exe_dir) / "lib" / "axon" / ("libaxon_" + std::string(type) + ".so");
}

fs::path ModulePath(std::string_view type) { return ModulePath(type, ExecutableDir()); }

}  // namespace axon
