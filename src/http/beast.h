// The one place that includes Boost.Asio/Beast for the project, with the short aliases we use.
#pragma once

#include <utility>  // must precede Boost 1.74 headers under C++20

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <string_view>

namespace axon::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using local_stream = boost::asio::local::stream_protocol;

// A Unix domain socket endpoint. A name starting with '@' is in Linux's abstract namespace
// (no file, no path length worries, gone with the listener); anything else is a file path.
local_stream::endpoint LocalEndpoint(std::string_view name);

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

}  // namespace axon::http
