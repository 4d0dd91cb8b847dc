// axon: the command-line interface to an Axon platform.
#include <iostream>

#include "cli/commands.h"
#include "cli/platform_client.h"

int main(int argc, char** argv) {
  CLI::App app{
      "axon: deploy machine-learning models as autoscaled HTTP APIs.\n"
      "Start the local platform with `axon up`, then `axon deploy` an axon.yaml.\n"
      "`axon env` switches between it (the env `local`) and clusters (`axon cluster install`).\n"
      "State lives in $AXON_HOME (default ~/.axon)."};
  app.require_subcommand(1);
  // `--env NAME` before or after the verb: subcommands pass options they do not know up here.
  app.fallthrough();
  app.add_option_function<std::string>(
      "--env", [](const std::string& name) { axon::cli::SelectEnv(name); },
      "the env to talk to instead of the current one (see `axon env list`)");
  app.set_help_all_flag("--help-all", "help for every verb");
  axon::cli::AddPlatformCommands(app);
  axon::cli::AddVersionCommand(app);
  axon::cli::AddApiCommands(app);
  axon::cli::AddPredictCommand(app);
  axon::cli::AddKeyCommands(app);
  axon::cli::AddImageCommands(app);
  axon::cli::AddEnvCommands(app);
  axon::cli::AddClusterCommands(app);
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
