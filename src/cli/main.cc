// axon: the command-line interface to an Axon platform.
#include <iostream>

#include "cli/commands.h"
#include "cli/platform_client.h"

int main(int argc, char** argv) {
  CLI::App app{
      "axon: deploy machine-learning models as autoscaled HTTP APIs.\n"
      "Start the local platform with `axon up`, then `axon deploy` an axon.yaml.\n"
      "State lives in $AXON_HOME (default ~/.axon)."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every verb");
  axon::cli::AddPlatformCommands(app);
  axon::cli::AddVersionCommand(app);
  axon::cli::AddApiCommands(app);
  axon::cli::AddPredictCommand(app);
  axon::cli::AddKeyCommands(app);
  axon::cli::AddImageCommands(app);
  axon::cli::AddCompletionCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : axon::cli::kExitBadInput;
  } catch (const axon::cli::CliError& e) {
    std::cerr << "axon: " << e.message << "\n";
    return e.exit_code;
  }
  return 0;
}
