// File → Merge shards… under QtTest (QT_QPA_PLATFORM=offscreen): the window merges sweep shards into
// its open database on a worker thread, reports a bad shard without touching the database for it,
// refreshes, and a second merge of the same shards adds nothing.

#include <QApplication>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <memory>

#include "app/main_window.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/store/uuid.h"

using namespace lorica;
using namespace lorica::app;

namespace {

// One sweep job's shard: one run of experiment `experiment_uuid` with a finished 1-task matrix.
void write_shard(const QString& path, const std::string& experiment_uuid, int64_t seed) {
    StoreListenerOptions options;
    options.experiment_uuid = experiment_uuid;
    StoreListener listener(std::make_shared<RunStore>(RunStore::open(path.toStdString())), options);
    listener.on_event(ExperimentStarted{"sweep", "{}", "h", {1, 2}, {}});
    RunStarted run;
    run.run_index = static_cast<int>(seed - 1);
    run.seed = seed;
    run.method = "lora";
    run.num_tasks = 1;
    listener.on_event(run);
    listener.on_event(EvaluationDone{{EvalRow{0, 0, 5, EvalPhase::end_of_task, HeadMode::class_il, 80, 100}}, {}});
    listener.on_event(RunFinished{RunStatus::finished, "", 1.0});
    listener.on_event(ExperimentFinished{RunStatus::finished});
}

void close_message_boxes() {
    for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w)) box->close();
}

}  // namespace

class GuiMergeTests : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());
        qputenv("XDG_CACHE_HOME", dir_.filePath("cache").toUtf8());
    }

    void mergesShardsOffTheGuiThread() {
        const std::string sweep = new_uuid();
        const QString a = dir_.filePath("shards/job0.sqlite"), b = dir_.filePath("shards/job1.sqlite");
        write_shard(a, sweep, 1);
        write_shard(b, sweep, 2);
        const QString bad = dir_.filePath("shards/notes.txt");
        std::ofstream(bad.toStdString()) << "not a database\n";

        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(dir_.filePath("merged.db")));
        QSignalSpy spy(&window, &MainWindow::shards_merged);
        window.merge_shards({a, bad, b});
        // The outcome arrives through the event loop: the action stays disabled until then.
        QVERIFY(!window.merge_action()->isEnabled());
        QVERIFY(spy.wait(30000));
        QCOMPARE(spy.at(0).at(0).toBool(), false);  // the text file was refused
        QCOMPARE(spy.at(0).at(1).toInt(), 2);
        QVERIFY(window.merge_action()->isEnabled());
        close_message_boxes();

        const auto runs = window.store()->list_runs();
        QCOMPARE(runs.size(), std::size_t(2));
        QCOMPARE(window.store()->list_experiments().size(), std::size_t(1));
        QCOMPARE(window.store()->list_experiments().front().uuid, sweep);
        QCOMPARE(runs[0].experiment_id, runs[1].experiment_id);

        window.merge_shards({a, b});
        QVERIFY(spy.wait(30000));
        QCOMPARE(spy.at(1).at(0).toBool(), true);
        QCOMPARE(spy.at(1).at(1).toInt(), 0);
        QCOMPARE(window.store()->list_runs().size(), std::size_t(2));
    }
};

QTEST_MAIN(GuiMergeTests)
#include "gui_merge_test.moc"
