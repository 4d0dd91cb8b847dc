// type: command: parsing, defaults, errors and the JSON round trip.
#include <gtest/gtest.h>

#include "spec/spec_file_test.h"

namespace axon::spec {
namespace {

std::string Command(std::string_view fields) {
  return "name: own\nkind: RealtimeAPI\npredictor:\n  type: command\n" + std::string(fields);
}

TEST_F(SpecFileTest, CommandPredictorsParse) {
  std::filesystem::create_directories(dir_ / "srv");
  ParseResult result =
      Parse(Command("  command: [python3, server.py, --workers, 2]\n  port: 9000\n"
                    "  readiness_path: /ready\n  path: srv\n"));
  ASSERT_TRUE(result.ok()) << result.ErrorText();
  const PredictorSpec& p = result.apis[0].predictor;
  EXPECT_EQ(p.command.argv, (std::vector<std::string>{"python3", "server.py", "--workers", "2"}));
  EXPECT_EQ(p.command.port, 9000);
  EXPECT_EQ(p.command.readiness_path, "/ready");
  EXPECT_EQ(p.path, (dir_ / "srv").string());
  EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(ToJson(result.apis[0]).dump())), result.apis[0]);

  ParseResult defaults = Parse(Command("  command: [./serve]\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.ErrorText();
  EXPECT_EQ(defaults.apis[0].predictor.command.port, 0);
  EXPECT_EQ(defaults.apis[0].predictor.command.readiness_path, "");
  EXPECT_EQ(defaults.apis[0].predictor.path, dir_.lexically_normal().string());
  EXPECT_EQ(defaults.apis[0].predictor.command.image, "");
  EXPECT_FALSE(ToJson(defaults.apis[0])["predictor"]["command"].contains("image"));  // same hash

  ParseResult imaged = Parse(Command("  command: [/app/serve]\n  image: registry.local/app:1.2\n"));
  ASSERT_TRUE(imaged.ok()) << imaged.ErrorText();
  EXPECT_EQ(imaged.apis[0].predictor.command.image, "registry.local/app:1.2");
  EXPECT_EQ(ApiSpecFromJson(nlohmann::json::parse(ToJson(imaged.apis[0]).dump())), imaged.apis[0]);
}

TEST_F(SpecFileTest, CommandErrorsSayWhatIsAllowed) {
  EXPECT_TRUE(HasError(Parse(Command("  port: 1\n")), "axon.yaml:3: ", "predictor.command",
                       "is required: the program that serves HTTP on $AXON_PORT"));
  EXPECT_TRUE(HasError(Parse(Command("  command: python3 server.py\n")),
                       "axon.yaml:5: ", "predictor.command", "must be a non-empty list"));
  EXPECT_TRUE(HasError(Parse(Command("  command: [\"\"]\n")),
                       "axon.yaml:5: ", "predictor.command[0]", "must name a program"));
  EXPECT_TRUE(HasError(Parse(Command("  command: [a]\n  port: 70000\n")),
                       "axon.yaml:6: ", "predictor.port", "70000"));
  EXPECT_TRUE(HasError(Parse(Command("  command: [a]\n  readiness_path: ready\n")), "axon.yaml:6: ",
                       "predictor.readiness_path", "must be a URL path that starts with \"/\""));
  EXPECT_TRUE(HasError(Parse(Command("  command: [a]\n  path: nowhere\n")),
                       "axon.yaml:6: ", "predictor.path", "is not a folder"));
  EXPECT_TRUE(HasError(Parse(Command("  command: [a]\n  config: {a: 1}\n")),
                       "axon.yaml:6: ", "predictor.config", "is not for command predictors"));
  EXPECT_TRUE(HasError(Parse(Command("  command: [a]\n  image: \"a b\"\n")),
                       "axon.yaml:6: ", "predictor.image", "must be a container image reference"));
  EXPECT_TRUE(HasError(
      Parse("name: p\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n"
            "  image: app:1\n"),
      "axon.yaml:6: ", "predictor.image", "is for command predictors (type: command)"));
  EXPECT_TRUE(HasError(
      Parse("name: p\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n"
            "  command: [a]\n"),
      "axon.yaml:6: ", "predictor.command", "is for command predictors (type: command)"));
}

}  // namespace
}  // namespace axon::spec
