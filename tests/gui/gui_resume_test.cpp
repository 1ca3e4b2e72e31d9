// Resume run in the workbench under QtTest (QT_QPA_PLATFORM=offscreen): a 3-task run is finished from
// the window, then made to look stopped after its first task checkpoint (status interrupted, the later
// checkpoints unrecorded, its later rows still there as a killed writer leaves them); the run browser's
// context menu offers Resume run for it, the session continues it on the job's thread into the same
// run record, and the run ends with the very evaluation rows and step losses it had before. A finished
// run is refused with a message naming it.

#include <QAction>
#include <QApplication>
#include <QMenu>
#include <QMessageBox>
#include <QTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <tuple>

#include "app/config_editor.h"
#include "app/engine_session.h"
#include "app/main_window.h"
#include "app/run_browser.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"

using namespace lorica;
using namespace lorica::app;

namespace {

nlohmann::json tiny_config(const QString& cache_dir) {
    return nlohmann::json{
        {"name", "gui-resume"},
        {"seeds", {0}},
        {"device", "cpu"},
        {"threads", 1},
        {"cache_dir", cache_dir.toStdString()},
        {"data", {{"train_per_class", 40}, {"test_per_class", 20}}},
        {"foundation", {{"classes", 2}, {"train_per_class", 40}, {"epochs", 1}, {"batch_size", 32}}},
        {"stream", {{"tasks", 3}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
        {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
        {"method", {{"name", "sd-lora"}, {"rank", 2}, {"alpha", 2.0}}},
        {"train", {{"epochs", 1}, {"batch_size", 32}}},
        {"eval", {{"batch_size", 64}, {"every_steps", 2}}},
    };
}

using EvalKey = std::tuple<int, int, int64_t, std::string, std::string, int64_t, int64_t>;

std::vector<EvalKey> eval_rows(const RunStore& store, int64_t run) {
    std::vector<EvalKey> out;
    for (const auto& e : store.eval_rows(run))
        out.emplace_back(e.row.after_task, e.row.eval_task, e.row.step, to_string(e.row.phase),
                         to_string(e.row.head_mode), e.row.correct, e.row.total);
    return out;
}

std::vector<std::pair<int64_t, double>> losses(const RunStore& store, int64_t run) {
    std::vector<std::pair<int64_t, double>> out;
    for (const auto& s : store.step_metrics(run)) out.emplace_back(s.step, s.loss);
    return out;
}

int row_of(const RunBrowser* browser, int64_t run) {
    for (int r = 0; r < browser->row_count(); ++r)
        if (browser->run_id_at(r) == run) return r;
    return -1;
}

QAction* resume_action_of(QMenu* menu) {
    for (QAction* a : menu->actions())
        if (a->objectName() == QLatin1String("resume_run")) return a;
    return nullptr;
}

}  // namespace

class GuiResumeTests : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());
        QCoreApplication::setApplicationName("lorica-gui-resume-test");
    }

    void resumes_a_stopped_run_from_the_run_browser() {
        MainWindow window;
        window.set_confirm_close(false);
        const QString db = dir_.filePath("runs.db");
        QVERIFY(window.open_database(db));
        window.editor()->set_document(tiny_config(dir_.filePath("cache")));
        QVERIFY2(window.editor()->valid(), qPrintable(window.editor()->error_message()));
        QSignalSpy finished(window.session(), &EngineSession::experiment_finished);
        window.start_action()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
        QCOMPARE(finished.front().front().value<RunStatus>(), RunStatus::finished);
        const int64_t run = window.store()->list_runs().front().id;
        const auto reference_eval = eval_rows(*window.store(), run);
        const auto reference_losses = losses(*window.store(), run);
        QVERIFY(reference_eval.size() > 10);

        // As a writer killed during task 2 after checkpoint 1 would leave it (its rows of task 2 and 3 stay).
        {
            Database d(db.toStdString());
            d.exec("UPDATE runs SET status = 'interrupted', message = 'killed' WHERE id = " + std::to_string(run));
            d.exec("DELETE FROM artifacts WHERE kind = 'run_checkpoint' AND meta_json NOT LIKE '%\"task\":0}'");
        }
        QSignalSpy listed(window.browser(), &RunBrowser::listing_shown);
        window.browser()->refresh();
        QTRY_VERIFY(listed.count() > 0);
        const int row = row_of(window.browser(), run);
        QVERIFY(row >= 0);
        QVERIFY(window.browser()->status_at(row) == RunStatus::interrupted);
        QMenu* menu = window.browser()->context_menu(row);
        QAction* resume = resume_action_of(menu);
        QVERIFY(resume != nullptr);
        QVERIFY(resume->isEnabled());
        resume->trigger();
        QVERIFY(window.session()->running());
        QVERIFY(!window.start_action()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 240000);
        QCOMPARE(finished.back().front().value<RunStatus>(), RunStatus::finished);

        const auto record = window.store()->run(run);
        QCOMPARE(record->status, RunStatus::finished);
        QVERIFY2(record->message.find("resumed after task 1 of 3") != std::string::npos, record->message.c_str());
        QCOMPARE(window.store()->list_runs().size(), std::size_t(1));
        QVERIFY(eval_rows(*window.store(), run) == reference_eval);
        QVERIFY(losses(*window.store(), run) == reference_losses);
        QVERIFY(window.session()->progress().step > 0);

        // A finished run: the menu item is off, and the session refuses it naming the run.
        window.browser()->refresh();
        QTRY_VERIFY(window.browser()->status_at(row_of(window.browser(), run)) == RunStatus::finished);
        QVERIFY(!resume_action_of(window.browser()->context_menu(row_of(window.browser(), run)))->isEnabled());
        QSignalSpy refused(window.session(), &EngineSession::cannot_start);
        QTimer closer;  // the window shows the refusal in a modal message box: close it
        connect(&closer, &QTimer::timeout, [] {
            for (QWidget* w : QApplication::topLevelWidgets())
                if (auto* box = qobject_cast<QMessageBox*>(w)) box->close();
        });
        closer.start(100);
        QVERIFY(window.resume_run(run));
        QTRY_COMPARE_WITH_TIMEOUT(refused.count(), 1, 60000);
        const QString message = refused.front().front().toString();
        QVERIFY2(message.contains(QStringLiteral("run %1 finished").arg(run)), qPrintable(message));
        QTRY_COMPARE(finished.count(), 3);
        QCOMPARE(window.store()->run(run)->status, RunStatus::finished);
    }
};

QTEST_MAIN(GuiResumeTests)
#include "gui_resume_test.moc"
