// How `axon describe` shows the models of an API that serves many (predictor.models as a
// mapping): the `multi_model` of GET <endpoint>/metadata, as one replica sees it. Pure; any
// thread.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

namespace axon::cli {

// Prints the cache size, a table of the models (versions on disk, the version served by
// default, the versions loaded) and the loaded models, least recently used first. Fields
// missing from `multi_model` print as "-".
void PrintMultiModel(std::ostream& out, const nlohmann::json& multi_model);

}  // namespace axon::cli
