// ConfigEditor, part: a PNG of every step's page (README screenshots, lorica --setup-screenshots).

#include <algorithm>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QPixmap>
#include <QScrollArea>
#include <QTimer>

#include "app/config_editor.h"

namespace lorica::app {

QStringList ConfigEditor::save_step_screenshots(const QString& dir, int wait_ms) {
    QDir().mkpath(dir);
    QStringList files;
    const SetupStep before = current_step();
    QElapsedTimer clock;
    clock.start();
    for (const SetupStepInfo& info : setup_steps()) {
        set_current_step(info.step);
        if (info.step == SetupStep::summary) request_estimate();
        // The step's look-ups: wait until they are drawn.
        do {
            QApplication::processEvents(QEventLoop::AllEvents, 50);
        } while ((lookup_timer_->isActive() || estimate_timer_->isActive() || preview_busy_ || weights_busy_ ||
                  (info.step == SetupStep::summary && estimate_busy_)) &&
                 clock.elapsed() < wait_ms);
        QApplication::processEvents();
        const QString name = info.title.toLower().replace(QLatin1Char(' '), QLatin1Char('_'));
        const QString path =
            QDir(dir).filePath(QStringLiteral("setup_%1_%2.png").arg(static_cast<int>(info.step) + 1).arg(name));
        // The status line, the step list and the whole page (not only the part the scroll area shows).
        auto* scroll = static_cast<QScrollArea*>(step_page(info.step));
        const QPixmap status = status_->grab(), steps = steps_->grab(), page = scroll->widget()->grab();
        QPixmap shot(std::max(status.width(), steps.width() + 6 + page.width()),
                     status.height() + 4 + std::max(steps.height(), page.height()));
        shot.fill(palette().color(QPalette::Window));
        QPainter painter(&shot);
        painter.drawPixmap(0, 0, status);
        painter.drawPixmap(0, status.height() + 4, steps);
        painter.drawPixmap(steps.width() + 6, status.height() + 4, page);
        painter.end();
        if (shot.save(path)) files << path;
    }
    set_current_step(before);
    return files;
}

}  // namespace lorica::app
