#pragma once
// `lorica-cli export-results RUN|exp:ID --out DIR` and `lorica-cli show ... --format csv|json`:
// stored results as CSV tables and one JSON document (engine/store/results_export.h).

#include <string>

namespace lorica::cli {

// Writes every table and results.json into `out_dir`; prints the files written. Returns the exit code.
int command_export_results(const std::string& db_path, const std::string& target, const std::string& out_dir);

// Prints the export of `target` to stdout: "csv" = each table as "# <name>" then its CSV, separated by
// blank lines; "json" = the JSON document. Returns the exit code.
int print_results(const std::string& db_path, const std::string& target, const std::string& format);

}  // namespace lorica::cli
