// The contextual-forgetting view under QtTest (QT_QPA_PLATFORM=offscreen): it draws the numbers of
// engine/eval/contextual_forgetting.h (scatter points, the top classes named, both densities) for the
// selected task, and the main window shows its dock only for a run that stored class similarities.

#include <QComboBox>
#include <QDockWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/main_window.h"
#include "app/run_data.h"
#include "app/run_views.h"
#include "engine/eval/contextual_forgetting.h"
#include "engine/store/run_store.h"
#include "widgets/contextual_forgetting_view.h"
#include "widgets/plot_widget.h"

using namespace lorica;
using namespace lorica::app;

namespace {

constexpr const char* kFashionConfig = R"({"data": {"dataset": "fashion-mnist"}})";

// Foundation classes 3 (Dress), 5 (Sandal), 9 (Ankle boot); two tasks; lost counts by hand.
void fill_run(RunData& run) {
    const double sims[2][3] = {{0.9, 0.4, 0.6}, {0.2, 0.95, 0.85}};
    const int classes[3] = {3, 5, 9};
    const int64_t lost[2][3] = {{12, 1, 4}, {0, 20, 9}};
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 3; ++i) {
            run.analysis.push_back(
                {AnalysisKey::class_similarity, SeriesKey::of_task(t), double(classes[i]), sims[t][i]});
            ClassEvalRow row{t, kFoundationTask, classes[i], 30, 50, 1};
            row.lost_since_start = lost[t][i];
            run.class_evals.push_back(row);
        }
    for (int c : classes) run.class_evals.push_back({-1, kFoundationTask, c, 45, 50});
}

}  // namespace

class ContextualForgettingViewTests : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());
        QCoreApplication::setApplicationName("lorica-gui-contextual-test");
    }

    void draws_the_analysis_of_the_selected_task() {
        QWidget window;
        RunViews views(&window);
        window.resize(1000, 600);
        ExperimentData data;
        data.apply(Event{ExperimentStarted{"cf", "{}", "h", {0}, {}}});
        RunStarted started;
        started.num_tasks = 2;
        started.config_json = kFashionConfig;
        started.facts.class_names = dataset_class_names(DatasetId::fashion_mnist);
        data.apply(Event{started});
        QSignalSpy offered(&views, &RunViews::offered_views_changed);
        views.show(data);  // no similarities yet
        QCOMPARE(offered.size(), 1);
        QVERIFY(!views.offers(ViewId::contextual_forgetting));
        fill_run(data.runs.back());
        views.show(data);
        QCOMPARE(offered.size(), 2);
        QVERIFY(views.offers(ViewId::contextual_forgetting));
        views.draw_pending();

        widgets::ContextualForgettingView* view = views.contextual_forgetting();
        const RunData& run = data.runs.back();
        const ContextualForgetting expected =
            contextual_forgetting(run.points_of(AnalysisKey::class_similarity), run.class_evals,
                                  dataset_class_names(DatasetId::fashion_mnist));
        QCOMPARE(view->task_count(), 2);
        QCOMPARE(view->task_selector()->count(), 2);
        QCOMPARE(view->selected_task(), 0);
        // task 0: Dress lost most (12), then Ankle boot (4), Sandal (1)
        QCOMPARE(view->labelled_classes(), (QStringList{"3 Dress", "9 Ankle boot", "5 Sandal"}));
        QCOMPARE(view->scatter()->series_count(), 2);  // the classes, the top ones
        QCOMPARE(view->scatter()->point_count(0), 3);
        QCOMPARE(view->density()->series_count(), 2);  // lost, all classes
        QCOMPARE(view->density()->point_count(0), expected.bins);
        QVERIFY(view->summary().contains(QStringLiteral("17 of 150 samples lost")));
        QVERIFY(view->summary().contains(QString::number(expected.tasks[0].lost_mean, 'f', 3)));

        view->select_task(1);  // task 1: Sandal 20, Ankle boot 9; Dress lost nothing and is not named
        QCOMPARE(view->labelled_classes(), (QStringList{"5 Sandal", "9 Ankle boot"}));
        QVERIFY(view->summary().contains(QStringLiteral("29 of 150 samples lost")));
        QVERIFY(view->summary().contains(QString::number(expected.tasks[1].class_mean, 'f', 3)));

        // Redrawn with the same data: the selected task stays.
        views.show(data);
        views.draw_pending();
        QCOMPARE(view->selected_task(), 1);
    }

    void the_main_window_shows_the_view_only_for_a_run_with_similarities() {
        const std::string db = dir_.filePath("runs.db").toStdString();
        int64_t with = 0, without = 0;
        {
            RunStore store = RunStore::open(db);
            for (int k = 0; k < 2; ++k) {
                const int64_t exp = store.insert_experiment(ExperimentStarted{"cf", "{}", "h", {0}, {}});
                RunStarted started;
                started.method = "sd-lora";
                started.num_tasks = 2;
                started.config_json = kFashionConfig;
                const int64_t id = store.insert_run(exp, started);
                RunData run;
                fill_run(run);
                EvaluationDone e;
                e.class_rows = run.class_evals;
                store.insert_evaluation(id, e);
                if (k == 0) store.insert_analysis_points(id, run.analysis);
                store.finish_run(id, RunStatus::finished, "", 1.0);
                (k == 0 ? with : without) = id;
            }
        }
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(QString::fromStdString(db)));
        auto* dock = window.findChild<QDockWidget*>(QStringLiteral("dock_contextual_forgetting"));
        QVERIFY(dock);
        QVERIFY(dock->isHidden());  // nothing shown yet
        for (const auto& [run_id, shown] : {std::pair{with, true}, std::pair{without, false}, std::pair{with, true}}) {
            QSignalSpy shown_run(&window, &MainWindow::run_shown);
            window.open_run(run_id);
            QVERIFY(shown_run.wait(20000));
            QCOMPARE(dock->isHidden(), !shown);
        }
        window.views()->draw_pending();
        QCOMPARE(window.views()->contextual_forgetting()->task_count(), 2);
    }
};

QTEST_MAIN(ContextualForgettingViewTests)
#include "contextual_forgetting_view_test.moc"
