#pragma once
// The run views of the main window, as typed ids.
//
// A view's name is stable: the dock's object name ("dock_<name>") and the view widget's ("view_<name>")
// are stored in the window state (QSettings), so renaming an entry here loses saved layouts.

#include <vector>

#include <QString>

#include "engine/vocabulary/analysis_keys.h"

namespace lorica::app {

enum class ViewId {
    loss,
    accuracy,
    matrix,
    metrics,
    magnitudes,
    residual,
    interpolation,
    rank_sweep,
    lori,
    foundation_classes,
    contextual_forgetting,
    low_loss_region
};

inline QString view_name(ViewId id) {
    switch (id) {
        case ViewId::loss:
            return QStringLiteral("loss");
        case ViewId::accuracy:
            return QStringLiteral("accuracy");
        case ViewId::matrix:
            return QStringLiteral("matrix");
        case ViewId::metrics:
            return QStringLiteral("metrics");
        case ViewId::magnitudes:
            return QStringLiteral("magnitudes");
        case ViewId::residual:
            return QStringLiteral("residual");
        case ViewId::interpolation:
            return QStringLiteral("interpolation");
        case ViewId::rank_sweep:
            return QStringLiteral("rank_sweep");
        case ViewId::lori:
            return QStringLiteral("lori");
        case ViewId::foundation_classes:
            return QStringLiteral("foundation_classes");
        case ViewId::contextual_forgetting:
            return QStringLiteral("contextual_forgetting");
        case ViewId::low_loss_region:
            return QStringLiteral("low_loss_region");
    }
    return QStringLiteral("?");
}

// The typed keys (engine/vocabulary/analysis_keys.h) a method-specific view draws. A view with keys
// is offered for a run whose method record declares one of them (MethodDeclaration::records) or
// that has recorded one (run_offers_view, run_views.h); a view without keys (loss, accuracy, matrix,
// metrics, foundation classes) is offered for every run.
struct DrawnKeys {
    std::vector<StateKey> state;
    std::vector<AnalysisKey> analyses;
    bool empty() const { return state.empty() && analyses.empty(); }
};

inline DrawnKeys drawn_keys(ViewId id) {
    switch (id) {
        case ViewId::magnitudes:
            return {{StateKey::magnitudes}, {}};
        case ViewId::residual:
            return {{StateKey::direction_residual}, {}};
        case ViewId::interpolation:
            return {{}, {AnalysisKey::merge_interpolation}};
        case ViewId::rank_sweep:
            return {{}, {AnalysisKey::rank_sweep}};
        case ViewId::lori:
            return {{}, {AnalysisKey::lori_merge, AnalysisKey::lori_overlap_a, AnalysisKey::lori_overlap_mask}};
        case ViewId::contextual_forgetting:
            return {{}, {AnalysisKey::class_similarity}};
        case ViewId::low_loss_region:
            return {{}, {AnalysisKey::low_loss_region, AnalysisKey::low_loss_ratio, AnalysisKey::low_loss_continual}};
        case ViewId::loss:
        case ViewId::accuracy:
        case ViewId::matrix:
        case ViewId::metrics:
        case ViewId::foundation_classes:
            return {};
    }
    return {};
}

}  // namespace lorica::app
