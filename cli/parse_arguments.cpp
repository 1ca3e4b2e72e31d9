#include "cli/parse_arguments.h"

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

namespace lorica::cli {

int parse_arguments(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        if (argc > 1 && argv[1][0] != '-') {
            bool known = false;
            std::string names;
            for (const auto* sub : app.get_subcommands({})) {
                known = known || sub->get_name() == argv[1];
                names += (names.empty() ? "" : ", ") + sub->get_name();
            }
            if (!known) {
                std::fprintf(stderr, "error: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
                return 2;
            }
        }
        std::fprintf(stderr, "error: %s\n(see `lorica-cli --help`, or `lorica-cli COMMAND --help`)\n", e.what());
        return 2;
    }
    return -1;
}

}  // namespace lorica::cli
