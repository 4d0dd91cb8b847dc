// Where the local platform keeps its files: $AXON_HOME (default ~/.axon). Plain value type.
#pragma once

#include <filesystem>

namespace axon {

struct AxonHome {
  std::filesystem::path root;

  // $AXON_HOME, else $HOME/.axon.
  static AxonHome FromEnvironment();

  std::filesystem::path TokenFile() const { return root / "token"; }
  std::filesystem::path ConfigFile() const { return root / "platform.json"; }
  std::filesystem::path StateDb() const { return root / "state.db"; }
  std::filesystem::path LogDir() const { return root / "logs"; }
  std::filesystem::path RunDir() const { return root / "run"; }  // pid and port files
  // Python environments of predictor.dependencies, one folder per set (replica/python_env.h).
  std::filesystem::path EnvsDir() const { return root / "envs"; }
  std::filesystem::path ApiLog(const std::string& api) const { return LogDir() / (api + ".log"); }
};

}  // namespace axon
