// The low-loss-region view under QtTest (QT_QPA_PLATFORM=offscreen): it draws the matrices of
// engine/eval/low_loss_table.h read from a run's points (three heatmap variants, blank cells where no
// point was stored) and the distances to W₀, and says how to turn the analysis on when there is none;
// the run views offer it only for a run that stored its points.

#include <cmath>

#include <QLabel>
#include <QtTest>

#include "app/run_data.h"
#include "app/run_views.h"
#include "engine/eval/low_loss_table.h"
#include "widgets/low_loss_region_view.h"
#include "widgets/matrix_heatmap.h"

using namespace lorica;
using namespace lorica::app;

namespace {

// Two tasks, as the trainer emits them after task 0 and after task 1 (values by hand).
std::vector<AnalysisPoint> two_task_points() {
    const SeriesKey start = SeriesKey::named(SeriesKey::Kind::from_start);
    return {{AnalysisKey::low_loss_region, SeriesKey::of_task(0), 0, 0.0},
            {AnalysisKey::low_loss_ratio, SeriesKey::of_task(0), 0, 0.0},
            {AnalysisKey::low_loss_region, start, 0, 2.0},
            {AnalysisKey::low_loss_continual, SeriesKey::of_task(0), 0, 0.5},
            {AnalysisKey::low_loss_continual, start, 0, 1.5},
            {AnalysisKey::low_loss_region, SeriesKey::of_task(1), 0, 3.0},
            {AnalysisKey::low_loss_ratio, SeriesKey::of_task(1), 0, 1.2},
            {AnalysisKey::low_loss_region, SeriesKey::of_task(0), 1, 3.0},
            {AnalysisKey::low_loss_ratio, SeriesKey::of_task(0), 1, 1.2},
            {AnalysisKey::low_loss_region, SeriesKey::of_task(1), 1, 0.0},
            {AnalysisKey::low_loss_ratio, SeriesKey::of_task(1), 1, 0.0},
            {AnalysisKey::low_loss_region, start, 1, 3.0},
            {AnalysisKey::low_loss_continual, SeriesKey::of_task(0), 1, 2.5},
            {AnalysisKey::low_loss_continual, SeriesKey::of_task(1), 1, 0.75},
            {AnalysisKey::low_loss_continual, start, 1, 2.75},
            {AnalysisKey::class_similarity, SeriesKey::of_task(4), 7, 0.5}};  // another analysis: ignored
}

}  // namespace

class LowLossRegionViewTests : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void table_reads_the_points() {
        const LowLossTable t = low_loss_table(two_task_points());
        QCOMPARE(t.tasks, 2);
        QCOMPARE(t.distance[1][0], 3.0);
        QCOMPARE(t.ratio[0][1], 1.2);
        QCOMPARE(t.continual[1][0], 2.5);        // row = after task 1, column = optimum 0
        QVERIFY(std::isnan(t.continual[0][1]));  // optimum 1 did not exist after task 0
        QCOMPARE(t.optimum_from_start[1], 3.0);
        QCOMPARE(t.continual_from_start[0], 1.5);
        QVERIFY(low_loss_table({{AnalysisKey::class_similarity, SeriesKey::of_task(0), 1, 0.5}}).empty());
        QVERIFY(format_low_loss_table({}).find("analysis.low_loss_region = true") != std::string::npos);
    }

    void view_draws_three_variants() {
        widgets::LowLossRegionView view;
        view.resize(600, 400);
        view.show();
        QCOMPARE(view.heatmap()->variant_count(), 0);
        QVERIFY(view.summary().isEmpty());
        view.set_table(low_loss_table(two_task_points()));
        QCOMPARE(view.heatmap()->variant_count(), 3);
        QCOMPARE(view.heatmap()->filled_cells(), 4);  // optima: every pair
        view.heatmap()->select_variant(2);
        QCOMPARE(view.heatmap()->filled_cells(), 3);  // continual: i ≤ t
        QVERIFY(view.summary().contains(QStringLiteral("2.00, 3.00")));
        QVERIFY(view.summary().contains(QStringLiteral("1.50, 2.75")));
        view.set_table({});
        QCOMPARE(view.heatmap()->variant_count(), 0);
    }

    void run_views_offer_it_for_a_run_with_its_points() {
        QWidget window;
        RunViews views(&window);
        window.resize(1000, 600);
        ExperimentData data;
        data.apply(Event{ExperimentStarted{"low-loss", "{}", "h", {0}, {}}});
        RunStarted started;
        started.num_tasks = 2;
        data.apply(Event{started});
        views.show(data);
        QVERIFY(!views.offers(ViewId::low_loss_region));
        data.apply(Event{AnalysisDone{two_task_points()}});
        views.show(data);
        QVERIFY(views.offers(ViewId::low_loss_region));
        views.draw_pending();
        QCOMPARE(views.low_loss_region()->table().tasks, 2);
        QCOMPARE(views.low_loss_region()->heatmap()->variant_count(), 3);
    }
};

QTEST_MAIN(LowLossRegionViewTests)
#include "low_loss_region_view_test.moc"
