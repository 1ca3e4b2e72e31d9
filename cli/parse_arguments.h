#pragma once
// Parses a lorica-cli command line with CLI11 and turns its errors into Lorica's: --help prints and
// exits 0; an unknown command names the known ones; every other argument error prints "error: ..."
// with a pointer to --help and exits 2 (CLI11's own codes, e.g. 105, are not ours).

namespace CLI {
class App;
}

namespace lorica::cli {

// -1 when the command line parsed (run the command), else the exit code to return at once.
int parse_arguments(CLI::App& app, int argc, char** argv);

}  // namespace lorica::cli
