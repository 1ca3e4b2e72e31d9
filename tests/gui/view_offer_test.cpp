// Which run views are offered (QT_QPA_PLATFORM=offscreen): a method-specific view is offered for a
// run whose method record declares a key it draws (MethodDeclaration::records), or that recorded one,
// never by the method's name; the main window shows the docks of the offered views and hides the rest.

#include <QDockWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/main_window.h"
#include "app/run_data.h"
#include "app/run_views.h"
#include "engine/methods/catalog/method_catalog.h"
#include "engine/store/run_store.h"

using namespace lorica;
using namespace lorica::app;

namespace {

RunData run_of(const std::string& method) {
    RunData run;
    RunStarted started;
    started.method = method;
    started.facts.method = method;
    run.apply(Event{started});
    return run;
}

}  // namespace

class ViewOfferTests : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());
        QCoreApplication::setApplicationName("lorica-gui-view-offer-test");
    }

    void views_follow_the_method_record() {
        // The records the test relies on: SD-LoRA declares its magnitudes, sequential LoRA does not.
        QVERIFY(method_declaration("sd-lora").records(StateKey::magnitudes));
        QVERIFY(!method_declaration("sequential-lora").records(StateKey::magnitudes));
        QVERIFY(method_declaration("sequential-lora").records(AnalysisKey::merge_interpolation));

        const RunData sd_lora = run_of("sd-lora");  // live, before it recorded anything
        QVERIFY(run_offers_view(sd_lora, ViewId::magnitudes));
        QVERIFY(run_offers_view(sd_lora, ViewId::residual));
        QVERIFY(!run_offers_view(sd_lora, ViewId::lori));
        QVERIFY(run_offers_view(sd_lora, ViewId::loss));  // the views every run has

        const RunData lora = run_of("sequential-lora");
        QVERIFY(!run_offers_view(lora, ViewId::magnitudes));
        QVERIFY(!run_offers_view(lora, ViewId::residual));
        QVERIFY(run_offers_view(lora, ViewId::interpolation));
        QVERIFY(run_offers_view(lora, ViewId::metrics));

        // A method this build does not register (an old run): what it recorded decides.
        RunData unknown = run_of("retired-method");
        QVERIFY(!run_offers_view(unknown, ViewId::magnitudes));
        unknown.states.push_back(MethodState{0, 4, StateKey::magnitudes, {1.0}});
        QVERIFY(run_offers_view(unknown, ViewId::magnitudes));
        QVERIFY(!run_offers_view(unknown, ViewId::residual));

        QWidget window;
        RunViews views(&window);
        QSignalSpy offered(&views, &RunViews::offered_views_changed);
        ExperimentData data;
        data.runs.push_back(lora);
        views.show(data);
        QCOMPARE(offered.size(), 1);
        QVERIFY(!views.offers(ViewId::magnitudes));
        QVERIFY(views.offers(ViewId::interpolation));
        QVERIFY(views.offers(ViewId::loss));
        data.runs.push_back(sd_lora);  // one shown run declares magnitudes: offered
        views.show(data);
        QCOMPARE(offered.size(), 2);
        QVERIFY(views.offers(ViewId::magnitudes));
        views.show(data);  // unchanged: no signal
        QCOMPARE(offered.size(), 2);
    }

    void the_main_window_shows_the_magnitudes_dock_for_a_run_whose_method_records_them() {
        const std::string db = dir_.filePath("runs.db").toStdString();
        int64_t sd_lora = 0, lora = 0;
        {
            RunStore store = RunStore::open(db);
            for (const char* method : {"sd-lora", "sequential-lora"}) {
                const int64_t exp = store.insert_experiment(ExperimentStarted{method, "{}", "h", {0}, {}});
                RunStarted started;
                started.method = method;
                started.num_tasks = 2;
                started.config_json = "{}";  // the store derives the facts (the method from its column)
                const int64_t id = store.insert_run(exp, started);
                store.finish_run(id, RunStatus::finished, "", 1.0);
                (std::string(method) == "sd-lora" ? sd_lora : lora) = id;
            }
        }
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(QString::fromStdString(db)));
        QDockWidget* magnitudes = window.view_dock(ViewId::magnitudes);
        QDockWidget* interpolation = window.view_dock(ViewId::interpolation);
        QVERIFY(magnitudes && interpolation);
        for (const auto& [run_id, shown] :
             {std::pair{sd_lora, true}, std::pair{lora, false}, std::pair{sd_lora, true}}) {
            QSignalSpy shown_run(&window, &MainWindow::run_shown);
            window.open_run(run_id);
            QVERIFY(shown_run.wait(20000));
            QCOMPARE(magnitudes->isHidden(), !shown);
            QVERIFY(!interpolation->isHidden());  // both methods record the merge interpolation
        }
    }
};

QTEST_MAIN(ViewOfferTests)
#include "view_offer_test.moc"
