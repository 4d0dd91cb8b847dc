// The axon verbs. Each Add*Commands() registers its subcommands on the app; their callbacks
// throw CliError (see platform_client.h) on failure, which main() prints and turns into the
// exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace axon::cli {

void AddPlatformCommands(CLI::App& app);  // up, down, dashboard
void AddVersionCommand(CLI::App& app);    // version
void AddApiCommands(CLI::App& app);       // deploy, get, describe, logs, refresh, rollback, delete
void AddDeployCommand(CLI::App& app);     // deploy (called by AddApiCommands, in verb order)
void AddLogsCommand(CLI::App& app);       // logs (called by AddApiCommands, in verb order)
void AddPredictCommand(CLI::App& app);    // predict
void AddImageCommands(CLI::App& app);     // image build
void AddKeyCommands(CLI::App& app);       // keys create | list | revoke
void AddEnvCommands(CLI::App& app);       // env add | list | use | remove
void AddClusterCommands(CLI::App& app);   // cluster install | info | uninstall
// completion; call last: the script it prints covers the verbs registered on `app` by then.
void AddCompletionCommand(CLI::App& app);

}  // namespace axon::cli
