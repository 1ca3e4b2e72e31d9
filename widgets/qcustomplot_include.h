#pragma once
// The one way to include QCustomPlot in Lorica.
//
// Lorica builds its Qt code with QT_NO_KEYWORDS (Qt's `signals`/`slots`/`emit` macros clash with
// LibTorch headers), but qcustomplot.h declares its signals with the bare `signals:` keyword and uses
// `foreach`. This wrapper maps those words to Q_SIGNALS / Q_SLOTS / Q_EMIT / Q_FOREACH for the
// duration of the include only, so no keyword macro leaks into the including file.

#include <QtGlobal>

#ifdef QT_NO_KEYWORDS
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
#else
#include <qcustomplot.h>
#endif
