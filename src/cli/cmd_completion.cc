// axon completion bash|zsh: prints a script that completes verbs, flags, the values of flags
// with a fixed set of values, file arguments and API names. API names are asked of the platform
// when the user presses Tab (`axon get -o name`). The script is built from the CLI11
// definitions of the verbs, so it follows every verb and flag as they are defined.
#include <iostream>
#include <sstream>

#include "cli/commands.h"

namespace axon::cli {
namespace {

// One verb as the completion script needs it.
struct VerbSpec {
  std::string name;
  std::string description;
  std::vector<std::string> flags;        // every spelling: -o --output -h --help
  std::vector<std::string> value_flags;  // the spellings of flags that take a value
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> flag_values;
  std::vector<std::string> args;  // per positional: api, file, values:a,b or text
};

std::string Join(const std::vector<std::string>& words, const std::string& separator = " ") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

// 'text' for the shell: single quotes, with every ' written as '\''.
std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The fixed set of values of an option checked with CLI::IsMember (its validator describes
// itself as "{a,b,c}"); empty for any other option.
std::vector<std::string> Choices(CLI::Option* option) {
  for (int i = 0;; ++i) {
    std::string description;
    try {
      description = option->get_validator(i)->get_description();
    } catch (const CLI::OptionNotFound&) {
      return {};
    }
    if (description.size() < 2 || description.front() != '{' || description.back() != '}') {
      continue;
    }
    std::vector<std::string> values;
    std::stringstream in(description.substr(1, description.size() - 2));
    for (std::string value; std::getline(in, value, ',');) values.push_back(value);
    return values;
  }
}

std::vector<std::string> Spellings(const CLI::Option* option) {
  std::vector<std::string> out;
  for (const auto& s : option->get_snames()) out.push_back("-" + s);
  for (const auto& l : option->get_lnames()) out.push_back("--" + l);
  return out;
}

VerbSpec DescribeVerb(CLI::App& verb) {
  VerbSpec spec{.name = verb.get_name(), .description = verb.get_description()};
  for (CLI::Option* option : verb.get_options()) {
    const auto choices = Choices(option);
    if (option->get_positional()) {
      const std::string name = option->get_name(/*positional=*/true);
      if (!choices.empty()) {
        spec.args.push_back("values:" + Join(choices, ","));
      } else {
        spec.args.push_back(name == "api" || name == "file" ? name : "text");
      }
      continue;
    }
    const auto spellings = Spellings(option);
    spec.flags.insert(spec.flags.end(), spellings.begin(), spellings.end());
    if (option->get_expected_max() > 0) {  // flags expect no value
      spec.value_flags.insert(spec.value_flags.end(), spellings.begin(), spellings.end());
      if (!choices.empty()) spec.flag_values.emplace_back(spellings, choices);
    }
  }
  return spec;
}

// Shell functions shared by both scripts (the case syntax is the same in bash and zsh):
// _axon_spec VERB sets flags, value_flags and args; _axon_flag_values VERB FLAG sets values.
std::string DataFunctions(const std::vector<VerbSpec>& verbs) {
  std::string out = "_axon_spec() {\n  case \"$1\" in\n";
  for (const auto& v : verbs) {
    out += "    " + v.name + ") flags=" + Quote(Join(v.flags)) +
           " value_flags=" + Quote(Join(v.value_flags)) + " args=" + Quote(Join(v.args)) + " ;;\n";
  }
  out += "    *) flags='' value_flags='' args='' ;;\n  esac\n}\n\n";
  out += "_axon_flag_values() {\n  case \"$1 $2\" in\n";
  for (const auto& v : verbs) {
    for (const auto& [spellings, values] : v.flag_values) {
      std::vector<std::string> patterns;
      for (const auto& s : spellings) patterns.push_back(Quote(v.name + " " + s));
      out += "    " + Join(patterns, "|") + ") values=" + Quote(Join(values)) + " ;;\n";
    }
  }
  out += "    *) values='' ;;\n  esac\n}\n";
  return out;
}

// Finds the verb (the first word after the command that is not a flag) and, for the word under
// the cursor, what it is: a verb, a flag, a flag's value or the n-th positional argument.
// $1 is the index of the first word after the command, $2 that of the word being completed;
// the shell's words are read through _axon_word, which sets `word`. Sets verb, kind and prev.
// Plain POSIX-style expansions only, so that bash and zsh run it alike, and no subshells.
constexpr const char* kLocateFunction = R"sh(_axon_locate() {
  local first=$1 current=$2 i word n=0 verb_at=0 rest arg=''
  verb='' kind='verb' prev=''
  for ((i = first; i < current; i++)); do
    _axon_word $i
    if [[ $word != -* ]]; then verb=$word verb_at=$i; break; fi
  done
  [[ -z $verb ]] && return
  _axon_spec "$verb"
  _axon_word $((current - 1)); prev=$word
  if ((current - 1 > verb_at)) && [[ " $value_flags " == *" $prev "* ]]; then
    kind='value'
    return
  fi
  _axon_word $current
  if [[ $word == -* ]]; then kind='flag'; return; fi
  for ((i = verb_at + 1; i < current; i++)); do
    _axon_word $i
    if [[ $word == -* ]]; then
      [[ " $value_flags " == *" $word "* ]] && i=$((i + 1))
    else
      n=$((n + 1))
    fi
  done
  rest="$args "
  while [[ -n ${rest// /} ]]; do
    arg=${rest%% *} rest=${rest#* }
    [[ $n -eq 0 ]] && break
    n=$((n - 1)) arg=''
  done
  kind="arg:${arg:-none}"
}
)sh";

constexpr const char* kBashDriver = R"sh(
_axon_word() { word=${COMP_WORDS[$1]}; }

_axon() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[0]}
  local verb kind prev flags value_flags args values
  COMPREPLY=()
  _axon_locate 1 "$COMP_CWORD"
  case $kind in
    verb) COMPREPLY=($(compgen -W "$_axon_verbs $_axon_top_flags" -- "$cur")) ;;
    flag) COMPREPLY=($(compgen -W "$flags" -- "$cur")) ;;
    value)
      _axon_flag_values "$verb" "$prev"
      COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
    arg:api) COMPREPLY=($(compgen -W "$("$cmd" get -o name 2>/dev/null)" -- "$cur")) ;;
    arg:file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    arg:values:*) local v=${kind#arg:values:}; COMPREPLY=($(compgen -W "${v//,/ }" -- "$cur")) ;;
  esac
}

complete -F _axon axon
)sh";

constexpr const char* kZshDriver = R"sh(
_axon_word() { word=${words[$1]}; }

_axon() {
  local cmd=${words[1]}
  local verb kind prev flags value_flags args values
  _axon_locate 2 "$CURRENT"
  case $kind in
    verb) _describe -t commands 'axon verb' _axon_verb_descriptions; compadd -- ${=_axon_top_flags} ;;
    flag) compadd -- ${=flags} ;;
    value) _axon_flag_values "$verb" "$prev"; compadd -- ${=values} ;;
    arg:api) local -a apis; apis=(${(f)"$("$cmd" get -o name 2>/dev/null)"}); compadd -a apis ;;
    arg:file) _files ;;
    arg:values:*) local v=${kind#arg:values:}; compadd -- ${(s:,:)v} ;;
  esac
}

if [[ ${funcstack[1]} == _axon ]]; then _axon "$@"; else compdef _axon axon; fi
)sh";

std::vector<VerbSpec> Verbs(CLI::App& app) {
  std::vector<VerbSpec> verbs;
  for (CLI::App* verb : app.get_subcommands([](CLI::App* a) { return !a->get_group().empty(); })) {
    verbs.push_back(DescribeVerb(*verb));
  }
  return verbs;
}

std::string TopFlags(CLI::App& app) {
  std::vector<std::string> flags;
  for (CLI::Option* option : app.get_options()) {
    const auto spellings = Spellings(option);
    flags.insert(flags.end(), spellings.begin(), spellings.end());
  }
  return Join(flags);
}

std::string Script(CLI::App& app, const std::string& shell) {
  const auto verbs = Verbs(app);
  std::vector<std::string> names;
  for (const auto& v : verbs) names.push_back(v.name);
  std::string out;
  if (shell == "zsh") {
    out +=
        "#compdef axon\n# zsh completion for axon, printed by `axon completion zsh`.\n"
        "# Load it with `source <(axon completion zsh)` after compinit, or save it as _axon\n"
        "# in a folder of $fpath.\n\n";
    out += "_axon_verb_descriptions=(\n";
    for (const auto& v : verbs) out += "  " + Quote(v.name + ":" + v.description) + "\n";
    out += ")\n";
  } else {
    out +=
        "# bash completion for axon, printed by `axon completion bash`.\n"
        "# Load it with `source <(axon completion bash)`, or save it as\n"
        "# /usr/share/bash-completion/completions/axon.\n\n";
  }
  out += "_axon_verbs=" + Quote(Join(names)) + "\n";
  out += "_axon_top_flags=" + Quote(TopFlags(app)) + "\n\n";
  out += DataFunctions(verbs) + "\n" + kLocateFunction;
  out += shell == "zsh" ? kZshDriver : kBashDriver;
  return out;
}

}  // namespace

void AddCompletionCommand(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  auto* completion = app.add_subcommand(
      "completion",
      "print a shell completion script (bash or zsh): source <(axon completion bash)");
  completion->add_option("shell", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&app, shell] { std::cout << Script(app, *shell); });
}

}  // namespace axon::cli
