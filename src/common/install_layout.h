// Where an Axon program finds the other Axon programs and the native runtime modules. The same
// rule serves a build folder and an installed system:
//
//   what                build folder                     installed (prefix /usr)
//   the CLI             build/bin/axon                   /usr/bin/axon
//   the other programs  build/bin/axon-operator, ...     /usr/libexec/axon/axon-operator, ...
//   runtime modules     build/lib/axon/libaxon_T.so      /usr/lib/axon/libaxon_T.so
//
// The prefix is the folder above the running executable's folder (bin/), or above libexec/axon/
// for a program installed there. Programs are looked up in <prefix>/libexec/axon, then next to
// the running executable; modules in <prefix>/lib/axon. Stateless and thread-safe.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace axon {

// The prefix of an executable that lives in `exe_dir`: exe_dir/.. , or exe_dir/../.. when
// exe_dir is <something>/libexec/axon.
std::filesystem::path InstallPrefix(const std::filesystem::path& exe_dir);

// The path of the Axon program `name` ("axon-operator", "axon-gateway", "axon-replica") for an
// executable in `exe_dir` (default: the running one's folder): <prefix>/libexec/axon/name, else
// exe_dir/name. NotFound, naming both folders, when neither is an executable file.
StatusOr<std::filesystem::path> ProgramPath(std::string_view name,
                                            const std::filesystem::path& exe_dir);
StatusOr<std::filesystem::path> ProgramPath(std::string_view name);

// The path of the runtime module of predictor type `type` ("torchscript", "onnx", "xgboost"),
// <prefix>/lib/axon/libaxon_<type>.so, whether or not it exists.
std::filesystem::path ModulePath(std::string_view type, const std::filesystem::path& exe_dir);
std::filesystem::path ModulePath(std::string_view type);

}  // namespace axon
