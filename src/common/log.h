// Process-wide logging set-up on top of spdlog. Call InitLogging once from main() before any
// other thread starts; afterwards spdlog's free functions are safe from any thread.
#pragma once

#include <string_view>

namespace axon {

// Logs go to stderr as "2026-01-02 03:04:05.678 [gateway] info: message".
void InitLogging(std::string_view process_name);

}  // namespace axon
