// axon image build: builds the replica and the operator/gateway images as docker-archive
// tarballs by running deploy/build-images (installed as share/axon/deploy/ next to bin/).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/platform_client.h"
#include "common/install_layout.h"
#include "common/process.h"
#include "common/version.h"

namespace axon::cli {
namespace {

namespace fs = std::filesystem;

struct ImageFlags {
  std::string output;
  std::string tag = std::string(Version());
  std::string cache;
  std::string mirror;
  std::string images = "replica,control";
};

// Replaces this process with the build script, so its output and exit code are the verb's.
[[noreturn]] void RunBuild(const ImageFlags& flags) {
  const fs::path prefix = InstallPrefix(ExecutableDir());
  const fs::path script = prefix / "share" / "axon" / "deploy" / "build-images";
  StatusOr<fs::path> replica = ProgramPath("axon-replica");
  if (!replica.ok()) throw CliError{kExitFailed, replica.status().message()};
  const fs::path bin = replica->parent_path();
  const fs::path lib = ModulePath("torchscript").parent_path();
  if (!fs::exists(script)) {
    throw CliError{kExitFailed, "the image builder is missing: expected " + script.string() +
                                    " (it is installed with axon)"};
  }
  std::vector<std::string> args = {script.string(), "--bin-dir", bin.string(), "--output",
                                   flags.output,    "--tag",     flags.tag,    "--images",
                                   flags.images,    "--lib-dir", lib.string()};
  if (!flags.cache.empty()) args.insert(args.end(), {"--cache", flags.cache});
  if (!flags.mirror.empty()) args.insert(args.end(), {"--mirror", flags.mirror});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  throw CliError{kExitFailed, "cannot run " + script.string() + ": " + std::strerror(errno)};
}

}  // namespace

void AddImageCommands(CLI::App& app) {
  CLI::App* image = app.add_subcommand("image", "build Axon's container images");
  image->require_subcommand(1);
  auto flags = std::make_shared<ImageFlags>();
  CLI::App* build = image->add_subcommand(
      "build",
      "build axon-replica:TAG (every model runtime) and axon-control:TAG (operator and "
      "gateway) from Debian packages, as docker-archive tarballs in --output; no Docker "
      "daemon or registry needed. The Debian base layers are cached by package list, so "
      "later builds only add Axon's binaries. Needs root (debootstrap).");
  build->add_option("--output", flags->output, "folder for axon-replica.tar and axon-control.tar")
      ->required();
  build->add_option("--tag", flags->tag, "image tag")->capture_default_str();
  build->add_option("--cache", flags->cache,
                    "where base layers are cached (default /var/cache/axon-images)");
  build->add_option("--mirror", flags->mirror,
                    "Debian mirror (default http://deb.debian.org/debian)");
  build->add_option("--images", flags->images, "which images, comma-separated")
      ->capture_default_str();
  build->callback([flags] { RunBuild(*flags); });
}

}  // namespace axon::cli
