#include "cli/parse_arguments.h"

#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace lorica::cli {

int parse_arguments(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        int word = 1;                                    // the command: the first argument after the global flags
        while (word < argc && (std::string_view(argv[word]) == "-v" || std::string_view(argv[word]) == "--verbose"))
            ++word;
        if (word < argc && argv[word][0] != '-') {
            bool known = false;
            std::string names;
            for (const auto* sub : app.get_subcommands({})) {
                known = known || sub->get_name() == argv[word];
                names += (names.empty() ? "" : ", ") + sub->get_name();
            }
            if (!known) {
                std::fprintf(stderr, "error: unknown command '%s' (commands: %s)\n", argv[word], names.c_str());
                return 2;
            }
        }
        std::fprintf(stderr, "error: %s\n(see `lorica-cli --help`, or `lorica-cli COMMAND --help`)\n", e.what());
        return 2;
    }
    return -1;
}

}  // namespace lorica::cli
