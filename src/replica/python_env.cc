#include "replica/python_env.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "common/process.h"
#include "common/sha256.h"

namespace axon::replica {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kReadyMarker[] = ".axon-ready";
constexpr size_t kTailLines = 12;
constexpr auto kPollInterval = 50ms;

// One step of a build: a program, where it runs, and how messages name it.
struct Step {
  std::string name;  // "pip install -r requirements.txt"
  std::vector<std::string> argv;
  fs::path working_dir;
};

// The last line of `tail` that starts with "ERROR:" (pip's summary), else its last line.
std::string SummaryLine(const std::string& tail) {
  std::istringstream lines(tail);
  std::string line, last, error;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.starts_with("ERROR:")) error = line;
  }
  return error.empty() ? last : error;
}

bool FileTextOr(const std::string& path, std::string* out, Status* error) {
  if (path.empty()) return true;
  auto text = ReadFile(path);
  if (!text.ok()) {
    *error = InvalidArgument("predictor.dependencies: " + text.status().message());
    return false;
  }
  *out = std::move(text).value();
  return true;
}

// An exclusive flock on `path`, released when the object goes (or the process dies).
class FileLock {
 public:
  explicit FileLock(const fs::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {}
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool opened() const { return fd_ >= 0; }
  bool TryLock() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

 private:
  int fd_;
};

class Builder {
 public:
  Builder(const spec::DependenciesSpec& deps, const PythonEnvOptions& options, std::string key)
      : deps_(deps),
        options_(options),
        dir_(options.envs_root / key),
        log_(options.envs_root / (key + ".log")),
        failed_(options.envs_root / (key + ".failed")) {}

  StatusOr<fs::path> Run() {
    if (Ready()) return dir_;
    std::error_code ec;
    fs::create_directories(options_.envs_root, ec);
    FileLock lock(options_.envs_root / (dir_.filename().string() + ".lock"));
    if (!lock.opened()) {
      return Internal("predictor.dependencies: cannot create a lock in " +
                      options_.envs_root.string() + ": " + std::strerror(errno));
    }
    const auto asked_at = fs::file_time_type::clock::now();
    bool logged = false;
    while (!lock.TryLock()) {
      if (!logged) spdlog::info("waiting for another replica to build {}", dir_.string());
      logged = true;
      if (options_.stop_requested && options_.stop_requested()) return Stopped();
      std::this_thread::sleep_for(kPollInterval);
    }
    if (Ready()) return dir_;
    // Another replica failed on the same set while this one waited: its reason holds.
    if (fs::exists(failed_, ec) && fs::last_write_time(failed_, ec) >= asked_at) {
      if (auto reason = ReadFile(failed_); reason.ok()) return InvalidArgument(*reason);
    }
    Status built = Build();
    if (!built.ok() && built.code() == StatusCode::kInvalidArgument) {
      (void)WriteFileAtomic(failed_, built.message());
    }
    return built.ok() ? StatusOr<fs::path>(dir_) : StatusOr<fs::path>(built);
  }

 private:
  bool Ready() const {
    std::error_code ec;
    return fs::exists(dir_ / kReadyMarker, ec);
  }
  static Status Stopped() { return Unavailable("stopped while building the Python environment"); }

  Status Build() {
    std::error_code ec;
    fs::remove_all(dir_, ec);  // an unfinished build of an earlier replica
    fs::remove(log_, ec);
    spdlog::info("building the Python environment {} for predictor.dependencies", dir_.string());
    std::vector<Step> steps{
        {"python3 -m venv --system-site-packages",
         {options_.python.string(), "-m", "venv", "--system-site-packages", dir_.string()},
         options_.envs_root}};
    if (!deps_.shell.empty()) {
      const fs::path script(deps_.shell);
      steps.push_back({"bash " + script.filename().string(),
                       {"/bin/bash", script.string()},
                       script.parent_path()});
    }
    if (!deps_.pip.empty()) {
      const fs::path requirements(deps_.pip);
      steps.push_back({"pip install -r " + requirements.filename().string(),
                       {(dir_ / "bin" / "python3").string(), "-m", "pip", "install",
                        "--disable-pip-version-check", "--no-input", "-r", requirements.string()},
                       requirements.parent_path()});
    }
    for (const Step& step : steps) {
      if (Status s = RunStep(step); !s.ok()) {
        fs::remove_all(dir_, ec);
        return s;
      }
    }
    if (Status s = WriteFileAtomic(dir_ / kReadyMarker, "built\n"); !s.ok()) return s;
    fs::remove(failed_, ec);
    spdlog::info("built the Python environment {}", dir_.string());
    return OkStatus();
  }

  Status RunStep(const Step& step) {
    const char* path = std::getenv("PATH");
    std::map<std::string, std::string> env{
        {"VIRTUAL_ENV", dir_.string()},
        {"PATH", (dir_ / "bin").string() + ":" + (path != nullptr ? path : "/usr/bin:/bin")},
        {"PIP_DISABLE_PIP_VERSION_CHECK", "1"},
        {"PYTHONNOUSERSITE", "1"}};
    auto pid = SpawnProcess({.argv = step.argv,
                             .env = std::move(env),
                             .output_file = log_,
                             .working_dir = step.working_dir});
    if (!pid.ok()) return Internal("predictor.dependencies: " + pid.status().message());
    for (;;) {
      if (auto exit = ReapIfExited(*pid)) {
        if (*exit == "exit code 0") return OkStatus();
        const std::string tail = TailFile(log_, kTailLines);
        std::string message = "predictor.dependencies: " + step.name + " failed (" + *exit + ")";
        if (const std::string summary = SummaryLine(tail); !summary.empty()) {
          message += ": " + summary;
        }
        return InvalidArgument(message + "\n" + tail);
      }
      if (options_.stop_requested && options_.stop_requested()) {
        ::kill(-*pid, SIGKILL);  // its own session: pip and whatever it started
        while (!ReapIfExited(*pid)) std::this_thread::sleep_for(kPollInterval);
        return Stopped();
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  const spec::DependenciesSpec& deps_;
  const PythonEnvOptions& options_;
  const fs::path dir_;
  const fs::path log_;
  const fs::path failed_;
};

}  // namespace

std::string PythonEnvKey(const spec::DependenciesSpec& deps, const PythonEnvOptions& options) {
  std::string pip, shell;
  Status ignored;
  (void)FileTextOr(deps.pip, &pip, &ignored);
  (void)FileTextOr(deps.shell, &shell, &ignored);
  Sha256 hash;
  for (const std::string& part :
       {std::string("axon python env 1"), options.python.string(), options.python_version,
        std::string(deps.pip.empty() ? "-" : "pip"), pip,
        std::string(deps.shell.empty() ? "-" : "shell"), shell}) {
    hash.Add(std::to_string(part.size()) + ":");
    hash.Add(part);
  }
  return hash.Hex().substr(0, 16);
}

StatusOr<fs::path> EnsurePythonEnv(const spec::DependenciesSpec& deps,
                                   const PythonEnvOptions& options) {
  std::string text;
  Status unreadable;
  if (!FileTextOr(deps.pip, &text, &unreadable) || !FileTextOr(deps.shell, &text, &unreadable)) {
    return unreadable;
  }
  Builder builder(deps, options, PythonEnvKey(deps, options));
  return builder.Run();
}

}  // namespace axon::replica
