// Query-string encoding and decoding. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axon::http {

// "%41b" -> "Ab", "+" -> " ". Malformed escapes are kept as they are.
std::string PercentDecode(std::string_view text);
// Every byte but letters, digits and "-._~" as %XX: "a b&c" -> "a%20b%26c".
std::string PercentEncode(std::string_view text);
// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace axon::http
