#include "engine/store/low_loss_export.h"

#include <cmath>
#include <cstdio>

namespace lorica {
namespace {

std::string low_loss_number(double value) {
    if (!std::isfinite(value)) return {};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}

nlohmann::json low_loss_json(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json append_low_loss_rows(LowLossTables& tables, const std::string& run_id, const LowLossTable& table) {
    using nlohmann::json;
    json distance = json::array(), ratio = json::array(), continual = json::array();
    json optimum_from_start = json::array(), continual_from_start = json::array();
    for (int i = 0; i < table.tasks; ++i) {
        json d = json::array(), r = json::array(), c = json::array();
        for (int j = 0; j < table.tasks; ++j) {
            const double dij = table.distance[i][j], rij = table.ratio[i][j], cij = table.continual[i][j];
            d.push_back(low_loss_json(dij));
            r.push_back(low_loss_json(rij));
            c.push_back(low_loss_json(cij));
            if (std::isfinite(dij) || std::isfinite(rij))
                tables.pairs.rows.push_back(
                    {run_id, std::to_string(i), std::to_string(j), low_loss_number(dij), low_loss_number(rij)});
            if (std::isfinite(cij))
                tables.continual.rows.push_back({run_id, std::to_string(i), std::to_string(j), low_loss_number(cij)});
        }
        distance.push_back(d);
        ratio.push_back(r);
        continual.push_back(c);
        const double o = table.optimum_from_start[i], w = table.continual_from_start[i];
        optimum_from_start.push_back(low_loss_json(o));
        continual_from_start.push_back(low_loss_json(w));
        if (std::isfinite(o) || std::isfinite(w))
            tables.from_start.rows.push_back({run_id, std::to_string(i), low_loss_number(o), low_loss_number(w)});
    }
    return {{"tasks", table.tasks},
            {"distance", distance},
            {"ratio", ratio},
            {"continual", continual},
            {"optimum_from_start", optimum_from_start},
            {"continual_from_start", continual_from_start}};
}

}  // namespace lorica
