#pragma once
// The run views of the main window, as typed ids.
//
// A view's name is stable: the dock's object name ("dock_<name>") and the view widget's ("view_<name>")
// are stored in the window state (QSettings), so renaming an entry here loses saved layouts.

#include <QString>

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
    contextual_forgetting
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
    }
    return QStringLiteral("?");
}

}  // namespace lorica::app
