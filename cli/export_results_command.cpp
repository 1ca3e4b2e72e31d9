#include "cli/export_results_command.h"

#include <cstdio>

#include "cli/report.h"
#include "engine/store/results_export.h"

namespace lorica::cli {

int command_export_results(const std::string& db_path, const std::string& target, const std::string& out_dir) {
    RunStore store = RunStore::open(db_path);
    const auto ids = target_run_ids(store, parse_results_target(target));
    const ResultsExport results = export_results(store, ids);
    const auto files = write_results(results, out_dir);
    std::printf("exported %zu run(s) of %s into %s:\n", ids.size(), db_path.c_str(), out_dir.c_str());
    for (const auto& t : results.tables) std::printf("  %-22s %zu rows\n", (t.name + ".csv").c_str(), t.rows.size());
    std::printf("  results.json\n");
    return 0;
}

int print_results(const std::string& db_path, const std::string& target, const std::string& format) {
    RunStore store = RunStore::open(db_path);
    const ResultsExport results = export_results(store, target_run_ids(store, parse_results_target(target)));
    if (format == "json") {
        std::printf("%s\n", results.document.dump(2).c_str());
        return 0;
    }
    bool first = true;
    for (const auto& t : results.tables) {
        std::printf("%s# %s\n%s", first ? "" : "\n", t.name.c_str(), to_csv(t).c_str());
        first = false;
    }
    return 0;
}

}  // namespace lorica::cli
