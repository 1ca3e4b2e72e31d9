// The desktop workbench under QtTest (QT_QPA_PLATFORM=offscreen): plot widgets and their exports,
// the config editor's round trip and field-level validation, a tiny experiment started from the
// window (live plots, progress, store), the run browser reopening and comparing it, and closing the
// window during a run.

#include <cmath>
#include <fstream>
#include <functional>
#include <latch>
#include <set>

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "app/adapter_export.h"
#include "app/compare_view.h"
#include "app/config_editor.h"
#include "app/config_json_dialog.h"
#include "app/engine_session.h"
#include "app/export_dialog.h"
#include "app/main_window.h"
#include "app/run_browser.h"
#include "app/run_list_model.h"
#include "app/run_views.h"
#include "app/store_worker.h"
#include "engine/config/presets.h"
#include "engine/eval/cost_table.h"
#include "engine/store/run_store.h"
#include "app/run_data.h"
#include "engine/vocabulary/event_listener.h"
#include "engine/services/experiment_runner.h"
#include "engine/store/store_listener.h"
#include "engine/store/sweep_summary.h"
#include "engine/vocabulary/analysis_keys.h"
#include "widgets/matrix_heatmap.h"
#include "widgets/metrics_table.h"
#include "widgets/plot_widget.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/seed_band.h"

using namespace lorica;
using namespace lorica::app;

namespace {

// A 2-task stream on a 1-block ViT with 40 images per class: trains in seconds on one core.
nlohmann::json tiny_config(const QString& cache_dir, std::vector<int64_t> seeds) {
    return nlohmann::json{
        {"name", "gui-test"},
        {"seeds", seeds},
        {"device", "cpu"},
        {"threads", 1},
        {"cache_dir", cache_dir.toStdString()},
        {"data", {{"train_per_class", 40}, {"test_per_class", 20}}},
        {"foundation", {{"classes", 2}, {"train_per_class", 40}, {"epochs", 1}, {"batch_size", 32}}},
        {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
        {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
        {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
        {"train", {{"epochs", 1}, {"batch_size", 32}}},
        {"eval", {{"batch_size", 64}}},
    };
}

int series_index(const widgets::PlotWidget* plot, const QString& name) {
    for (int i = 0; i < plot->series_count(); ++i)
        if (plot->series_name(i) == name) return i;
    return -1;
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class GuiTests : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString db_path() const { return dir_.filePath("runs.db"); }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());  // QSettings: a fresh layout per run
        QCoreApplication::setApplicationName("lorica-gui-test");
    }

    void seed_band_is_mean_and_sample_std() {
        const auto band = widgets::seed_band({{1.0, 2.0, 3.0}, {3.0, 4.0}});
        QCOMPARE(band.mean.size(), std::size_t(3));
        QCOMPARE(band.mean[0], 2.0);
        QCOMPARE(band.mean[1], 3.0);
        QCOMPARE(band.mean[2], 3.0);  // only the first seed has point 2
        QVERIFY(std::abs(band.std[0] - std::sqrt(2.0)) < 1e-12);
        QCOMPARE(band.std[2], 0.0);
        QCOMPARE(band.count[2], 1);
    }

    void plot_widget_exports_every_format() {
        widgets::PlotWidget plot("Test plot", "x", "y");
        plot.resize(400, 300);
        QVERIFY(plot.showing_empty_state());
        plot.add_line("a, first", {0, 1, 2, 3, 4}, {1, 2, 3, 2, 1}, widgets::series_color(0));
        plot.add_band("b", {0, 1, 2}, {5, 6, 7}, {1, 1, 1}, widgets::series_color(1));
        plot.add_vertical_marker(2.5, "t1");
        plot.finish();
        QVERIFY(!plot.showing_empty_state());
        QCOMPARE(plot.series_count(), 4);  // line + band (lower, upper, mean)
        QCOMPARE(plot.marker_count(), 1);

        const QString csv = dir_.filePath("plot.csv");
        QVERIFY(plot.export_csv(csv));
        const QList<QByteArray> lines = read_all(csv).trimmed().split('\n');
        QCOMPARE(lines.size(), 1 + 5 + 3 * 3);
        QCOMPARE(lines[0], QByteArray("series,x,y"));
        QCOMPARE(lines[1], QByteArray("\"a, first\",0,1"));
        QVERIFY(lines.contains("b + std,2,8"));

        QVERIFY(plot.export_png(dir_.filePath("plot.png"), 400, 300));
        QVERIFY(read_all(dir_.filePath("plot.png")).startsWith("\x89PNG"));
        QVERIFY(plot.export_pdf(dir_.filePath("plot.pdf")));
        QVERIFY(read_all(dir_.filePath("plot.pdf")).startsWith("%PDF"));
        if (widgets::PlotWidget::svg_supported()) {
            QVERIFY(plot.export_svg(dir_.filePath("plot.svg")));
            QVERIFY(read_all(dir_.filePath("plot.svg")).contains("<svg"));
        }
        plot.clear();
        QVERIFY(plot.showing_empty_state());
    }

    void heatmap_writes_values_and_toggles() {
        widgets::MatrixHeatmap heatmap("R", "after", "task");
        widgets::Grid acc = {{90.0, std::nullopt}, {70.0, 80.0}};
        widgets::Grid forgetting = {{0.0, std::nullopt}, {20.0, 0.0}};
        heatmap.set_variants({{"accuracy", acc, 0, 100, true, 1}, {"forgetting", forgetting, 0, 100, false, 1}});
        QCOMPARE(heatmap.variant_count(), 2);
        QCOMPARE(heatmap.filled_cells(), 3);
        heatmap.select_variant(1);
        QCOMPARE(heatmap.current_variant(), 1);
        const QString csv = dir_.filePath("heatmap.csv");
        QVERIFY(heatmap.plot_widget()->export_csv(csv));
        QVERIFY(read_all(csv).contains("row 1,0,20"));
        QVERIFY(heatmap.toggle_shown());
        auto tick_labels = [&](QCPAxis* axis) {
            auto ticker = axis->ticker().dynamicCast<QCPAxisTickerText>();
            return ticker ? QStringList(ticker->ticks().values()) : QStringList();
        };
        QCOMPARE(tick_labels(heatmap.plot_widget()->plot()->yAxis), (QStringList{"after 0", "after 1"}));
        QCOMPARE(tick_labels(heatmap.plot_widget()->plot()->xAxis), (QStringList{"task 0", "task 1"}));
        // One variant: nothing to choose, no "Show:" toggle; an overlap matrix is task × task.
        heatmap.set_variants({{"overlap", acc, 0, 1, false, 2}});
        QVERIFY(!heatmap.toggle_shown());
        heatmap.set_tick_prefixes("task ", "task ");
        QCOMPARE(tick_labels(heatmap.plot_widget()->plot()->yAxis), (QStringList{"task 0", "task 1"}));
    }

    void metrics_table_has_formula_tooltips() {
        widgets::MetricsTable table;
        QCOMPARE(table.row_count(), static_cast<int>(metric_table().size() + cost_columns().size()));
        QVERIFY(table.row_tooltip(0).contains(QString::fromStdString(metric_table()[0].formula).toHtmlEscaped()));
        // The cost rows follow the metrics, each with its description; a run without cost reads "—".
        QCOMPARE(table.cost_row(0), static_cast<int>(metric_table().size()));
        QCOMPARE(table.table()->verticalHeaderItem(table.cost_row(0))->text(), QString("Inference GFLOPs per image"));
        QVERIFY(table.row_tooltip(table.cost_row(3)).contains("InfLoRA"));
        table.set_columns({{"run 1", {"68.33"}, {"35.13", "368,640"}}, {"run 2", {}}});
        QCOMPARE(table.column_count(), 2);
        QCOMPARE(table.text(0, 0), QString("68.33"));
        QCOMPARE(table.text(1, 0), QString("n/a"));
        QCOMPARE(table.text(0, 1), QString("n/a"));
        QCOMPARE(table.text(table.cost_row(0), 0), QString("35.13"));
        QCOMPARE(table.text(table.cost_row(1), 0), QString("368,640"));
        QCOMPARE(table.text(table.cost_row(2), 0), QString::fromUtf8("—"));
        QCOMPARE(table.text(table.cost_row(0), 1), QString::fromUtf8("—"));
    }

    void config_editor_round_trip_and_field_errors() {
        ConfigEditor editor;
        editor.load_preset("smoke");
        QVERIFY2(editor.valid(), qPrintable(editor.error_message()));
        QCOMPARE(editor.document().at("stream").at("tasks").get<int>(), 2);
        QCOMPARE(editor.config().train.batch_size, int64_t(64));
        // Every field of the config has an editor.
        QVERIFY(editor.field_widget("train.optimizer.lr"));
        QVERIFY(editor.field_widget("foundation.schedule.name"));
        QVERIFY2(editor.field_widget("method.options.interpolation_points"), "sequential LoRA's one option");
        QVERIFY(editor.field_widget("stream.class_order_seed"));
        QVERIFY(editor.field_widget("eval.every_steps"));
        // The stream editor lists the foundation and both tasks, with Fashion-MNIST class names.
        const QStringList tasks = editor.task_list();
        QCOMPARE(tasks.size(), 3);
        QVERIFY(tasks[0].startsWith("foundation"));
        QVERIFY(tasks[2].contains("[rot90]"));

        // Save, reload into a second editor: the same document and config.
        const QString path = dir_.filePath("smoke.json");
        QVERIFY(editor.save_file(path));
        ConfigEditor reloaded;
        reloaded.load_file(path);
        QCOMPARE(reloaded.document(), editor.document());
        QCOMPARE(to_json(reloaded.config()), to_json(editor.config()));

        // Validation as you type: the engine's message at the field it names.
        QSignalSpy validity(&editor, &ConfigEditor::validity_changed);
        editor.set_field_text("train.epochs", "-1");
        QVERIFY(!editor.valid());
        QCOMPARE(editor.error_field(), QString("train.epochs"));
        QVERIFY(editor.field_error_text("train.epochs").contains("train.epochs"));
        QVERIFY(editor.field_error_text("train.batch_size").isEmpty());
        QCOMPARE(validity.count(), 1);
        editor.set_field_text("train.epochs", "2");
        QVERIFY(editor.valid());
        QVERIFY(editor.field_error_text("train.epochs").isEmpty());
        QCOMPARE(editor.config().train.epochs, 2);

        editor.set_field_text("train.optimizer.lr", "fast");
        QCOMPARE(editor.error_field(), QString("train.optimizer.lr"));
        editor.set_field_text("train.optimizer.lr", "0.001");
        QVERIFY(editor.valid());
        QCOMPARE(editor.config().train.optimizer.lr, 0.001);

        // Method options are typed editors from the method's declaration; another method brings its own.
        editor.set_field_text("method.name", "sd-lora");
        auto* handover = qobject_cast<QComboBox*>(editor.field_widget("method.options.handover"));
        QVERIFY(handover);
        QCOMPARE(handover->count(), 4);
        QCOMPARE(handover->currentText(), QString("rescale"));  // the declared default
        QVERIFY(handover->toolTip().contains("frozen direction"));
        QVERIFY2(!editor.field_widget("method.options.kd_tau"), "kd_tau belongs to sd-lora-kd");
        QVERIFY2(!editor.document().at("method").at("options").contains("handover"), "defaults are not written");
        editor.set_field_text("method.options.handover", "literal");
        QVERIFY(editor.valid());
        QCOMPARE(editor.document().at("method").at("options").at("handover"), nlohmann::json("literal"));
        editor.set_field_text("method.options.magnitude_init", "-1");
        QVERIFY(!editor.valid());
        QCOMPARE(editor.error_field(), QString("method.options.magnitude_init"));
        QVERIFY(!editor.field_error_text("method.options.magnitude_init").isEmpty());
        editor.set_field_text("method.options.magnitude_init", "");
        QVERIFY(editor.valid());
        QVERIFY(!editor.document().at("method").at("options").contains("magnitude_init"));
        editor.set_field_text("method.name", "full-finetune");
        QVERIFY(editor.valid());
        QVERIFY(!editor.field_widget("method.options.handover"));
        QCOMPARE(editor.document().at("method").at("options"), nlohmann::json::object());
        editor.set_field_text("method.name", "sequential-lora");

        editor.set_field_text("stream.domains", "[\"identity\", \"sideways\"]");
        QVERIFY(!editor.valid());
        QVERIFY(editor.error_field().startsWith("stream.domains"));
        QVERIFY(!editor.field_error_text("stream.domains").isEmpty());
    }

    void tiny_run_from_the_window_finishes_with_its_plots() {
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(db_path()));
        QCOMPARE(window.export_action()->isEnabled(), lorica::app::export_available());
        QVERIFY(!window.export_action()->toolTip().isEmpty());
        window.editor()->set_document(tiny_config(dir_.filePath("cache"), {0, 1}));
        QVERIFY2(window.editor()->valid(), qPrintable(window.editor()->error_message()));
        QSignalSpy finished(window.session(), &EngineSession::experiment_finished);
        QSignalSpy progress(window.session(), &EngineSession::progress_changed);
        QVERIFY(window.setup_dock()->isVisibleTo(&window));
        window.start_action()->trigger();
        QVERIFY(window.session()->running());
        QVERIFY(window.cancel_action()->isEnabled());
        QVERIFY(!window.start_action()->isEnabled());
        // The set-up column folds while the run trains, so the plots get the width.
        QVERIFY(!window.setup_dock()->isVisibleTo(&window));
        QVERIFY(!window.runs_dock()->isVisibleTo(&window));
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
        QCOMPARE(finished.front().front().value<RunStatus>(), RunStatus::finished);
        QVERIFY(window.setup_dock()->isVisibleTo(&window));  // back for the next run
        QVERIFY(progress.count() > 0);
        QCOMPARE(window.session()->progress().fraction, 1.0);
        QVERIFY(window.start_action()->isEnabled());

        // Two seeds were stored, each with the steps it planned.
        const auto runs = window.store()->list_runs();
        QCOMPARE(runs.size(), std::size_t(2));
        const ExperimentData& live = window.session()->data();
        QCOMPARE(live.runs.size(), std::size_t(2));
        const int64_t planned = runs[0].total_steps;
        QVERIFY(planned > 0);
        // Every stream step's progress counts against the run's planned steps, also after the
        // foundation step showed its own total (it used to leave "step 12/0" and 100 % behind).
        int stream_updates = 0;
        for (const QList<QVariant>& update : progress) {
            const auto p = update.front().value<lorica::app::Progress>();
            if (p.foundation || p.step == 0) continue;
            ++stream_updates;
            QCOMPARE(p.total_steps, planned);
            QVERIFY2(p.text().contains(QStringLiteral("/%1").arg(planned)), qPrintable(p.text()));
            if (p.run_index == 0) QVERIFY2(p.fraction <= 0.5 + 1e-9, qPrintable(p.text()));  // 2 seeds
        }
        QVERIFY(stream_updates > 0);
        QCOMPARE(static_cast<int64_t>(window.store()->step_metrics(runs[0].id).size()), planned);
        QCOMPARE(live.runs[0].record.id, runs[0].id);

        // The export dialog, as the action opens it: its run list and the export run on the store
        // worker's thread; one PEFT folder per task, with timm base weights.
        const std::string out = dir_.filePath("export").toStdString();
        ExportDialog dialog(window.store_worker(), runs[0].id, &window);
        QSignalSpy listed(&dialog, &ExportDialog::runs_listed);
        QVERIFY(listed.wait(20000));
        QCOMPARE(dialog.run_count(), 2);
        QCOMPARE(dialog.request().run_id, runs[0].id);  // preselected
        dialog.set_output_folder(QString::fromStdString(out));
        QSignalSpy exported(&dialog, &ExportDialog::export_finished);
        dialog.start_export();
        QVERIFY(exported.wait(60000));
        const QString written = exported.front().at(0).toString(), export_error = exported.front().at(1).toString();
        QVERIFY2(export_error.isEmpty(), qPrintable(export_error));
        QVERIFY2(QFileInfo::exists(QString::fromStdString(out + "/task0/base_model.safetensors")), qPrintable(written));
        QVERIFY(QFileInfo::exists(QString::fromStdString(out + "/task0/lorica_export.json")));

        // Two seeds: the loss is a mean ± std band with one point per step.
        RunViews* views = window.views();
        views->draw_pending();  // the window is not on screen: draw the views it would show
        const int loss = series_index(views->loss(), "loss (mean ± std)");
        QVERIFY(loss >= 0);
        QCOMPARE(static_cast<int64_t>(views->loss()->point_count(loss)), planned);
        QCOMPARE(views->loss()->marker_count(), 2);  // task boundaries t0, t1
        // Task 0 is evaluated after tasks 0 and 1, task 1 after task 1.
        const int task0 = series_index(views->accuracy(), "task 0 (mean ± std)");
        const int task1 = series_index(views->accuracy(), "task 1 (mean ± std)");
        QVERIFY(task0 >= 0 && task1 >= 0);
        QCOMPARE(views->accuracy()->point_count(task0), 2);
        QCOMPARE(views->accuracy()->point_count(task1), 1);
        QCOMPARE(views->matrix()->filled_cells(), 3);
        QVERIFY(views->metrics()->text(0, 0).contains(QString::fromUtf8("±")));
        QCOMPARE(views->metrics()->column_count(), 4);  // class-IL, task-IL, one per seed
        // A sequential-LoRA run has no SD-LoRA state: the explanatory empty state shows. It does record
        // the merge interpolation between its task-0 and task-1 solutions: one chart per seed.
        QVERIFY(views->magnitudes()->showing_empty_state());
        QCOMPARE(views->interpolation()->chart_count(), 2);
        // The foundation's classes were evaluated one by one after each task.
        QCOMPARE(views->foundation_classes()->series_count(), 2);
    }

    void store_worker_runs_off_the_gui_thread_and_newest_wins() {
        auto store = std::make_shared<RunStore>(RunStore::open(dir_.filePath("worker.db").toStdString()));
        StoreWorker worker(store);
        QThread* gui = QThread::currentThread();
        std::vector<int> delivered_opens, delivered_exports;
        std::atomic<bool> on_gui_thread{false};
        // Five opens and three exports queued at once behind a first job held until they all are:
        // only the newest open is delivered (the others are skipped or dropped); every export is
        // delivered, in order.
        std::latch all_queued(1);
        worker.submit<int>(
            StoreWorker::Lane::list_runs,
            [&](const RunStore&) {
                all_queued.wait();
                return 0;
            },
            [](int, const QString&) {});
        for (int i = 0; i < 5; ++i)
            worker.submit<int>(
                StoreWorker::Lane::open_run,
                [&, i](const RunStore&) {
                    if (QThread::currentThread() == gui) on_gui_thread = true;
                    return i;
                },
                [&](int value, const QString&) { delivered_opens.push_back(value); });
        for (int i = 0; i < 3; ++i)
            worker.submit<int>(
                StoreWorker::Lane::export_adapters, [i](const RunStore&) { return 10 + i; },
                [&](int value, const QString&) { delivered_exports.push_back(value); });
        QString error;
        worker.submit<int>(
            StoreWorker::Lane::compare_runs,
            [](const RunStore&) -> int { throw std::runtime_error("run 7 does not exist"); },
            [&](int, const QString& e) { error = e; });
        QCOMPARE(worker.pending(), 10);
        QSignalSpy idle(&worker, &StoreWorker::idle);
        all_queued.count_down();
        QVERIFY(idle.wait(10000));
        QCOMPARE(worker.pending(), 0);
        QVERIFY(!on_gui_thread);
        QCOMPARE(delivered_opens, std::vector<int>{4});
        QCOMPARE(delivered_exports, (std::vector<int>{10, 11, 12}));
        QCOMPARE(error, QString("run 7 does not exist"));
        QVERIFY(worker.thread_of_jobs() != gui);
    }

    void run_list_model_sorts_by_any_column() {
        RunListModel model;
        std::vector<RunSummary> runs(3);
        runs[0].id = 9, runs[0].method = "sd-lora", runs[0].final_accuracy = 41.5, runs[0].seconds = 3;
        runs[1].id = 8, runs[1].method = "lori-d", runs[1].seconds = 1;  // no accuracy yet
        runs[2].id = 7, runs[2].method = "merged-lora", runs[2].final_accuracy = 55.25, runs[2].seconds = 2;
        model.set_runs(runs, 5);  // the first page of a listing of 5
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.data(model.index(0, RunListModel::kAccuracy)).toString(), QString("41.50"));
        QCOMPARE(model.data(model.index(1, RunListModel::kAccuracy)).toString(), QString());
        // The query sorts: sort() records the order and asks for a new listing, rows stay as listed.
        QCOMPARE(model.sort_key(), RunSortKey::id);
        QVERIFY(model.sort_descending());
        QSignalSpy sort_wanted(&model, &RunListModel::sort_wanted);
        model.sort(RunListModel::kAccuracy, Qt::AscendingOrder);
        QCOMPARE(sort_wanted.count(), 1);
        QCOMPARE(model.sort_key(), RunSortKey::final_accuracy);
        QVERIFY(!model.sort_descending());
        QCOMPARE(model.run_at(0).id, qint64(9));
        model.sort(RunListModel::kAccuracy, Qt::AscendingOrder);  // unchanged: no new listing
        QCOMPARE(sort_wanted.count(), 1);
        for (int c = 0; c < RunListModel::kColumnCount; ++c) {
            model.sort(c, Qt::DescendingOrder);
            QCOMPARE(model.sort_key(), RunListModel::sort_key_of_column(c));
        }
        QCOMPARE(RunListModel::sort_key_of_column(RunListModel::kMethod), RunSortKey::method);
        QCOMPARE(RunListModel::sort_key_of_column(RunListModel::kStarted), RunSortKey::started);
        // Paging: 3 of 5 loaded → one request for more until the page arrives.
        QSignalSpy more(&model, &RunListModel::more_wanted);
        QVERIFY(model.canFetchMore({}));
        model.fetchMore({});
        model.fetchMore({});
        QCOMPARE(more.count(), 1);
        QVERIFY(!model.canFetchMore({}));
        std::vector<RunSummary> next(2);
        next[0].id = 6, next[1].id = 5;
        model.append_runs(next);
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.run_at(4).id, qint64(5));
        QVERIFY(!model.canFetchMore({}));  // all 5 loaded
    }

    void run_browser_pages_a_large_database_and_sorts_in_the_query() {
        auto store = std::make_shared<RunStore>(RunStore::open(dir_.filePath("paging.db").toStdString()));
        const int runs = RunBrowser::kPageRows * 2 + 50;
        for (int i = 0; i < runs; ++i) {
            RunRecord r;
            r.method = i % 3 ? "sd-lora" : "lori-s";
            r.status = RunStatus::finished;
            r.seed = (i * 7919) % runs;  // a permutation of 0..runs-1
            r.started_at = "2025-01-01T00:00:00.000Z";
            store->insert_run(r);
        }
        RunBrowser browser;
        QSignalSpy shown(&browser, &RunBrowser::listing_shown);
        browser.set_store(store);
        QVERIFY(shown.wait(20000));
        QCOMPARE(browser.row_count(), RunBrowser::kPageRows);  // one page, not the whole database
        QCOMPARE(shown.last().at(1).toLongLong(), qint64(runs));
        QCOMPARE(browser.run_id_at(0), store->list_run_page({}, {1, 0}).runs.front().id);  // newest first
        auto* table = browser.findChild<QTableView*>();
        QVERIFY(table);
        auto* model = qobject_cast<RunListModel*>(table->model());
        QVERIFY(model);
        while (model->canFetchMore({})) {
            const int before = browser.row_count();
            model->fetchMore({});
            QVERIFY(shown.wait(20000));
            QVERIFY(browser.row_count() > before);
        }
        QCOMPARE(browser.row_count(), runs);
        std::set<qint64> ids;
        for (int r = 0; r < runs; ++r) ids.insert(browser.run_id_at(r));
        QCOMPARE(static_cast<int>(ids.size()), runs);  // pages tile the listing: no run twice
        // Clicking the seed header: the query lists again, ascending by seed.
        table->sortByColumn(RunListModel::kSeed, Qt::AscendingOrder);
        QVERIFY(shown.wait(20000));
        QCOMPARE(browser.row_count(), RunBrowser::kPageRows);
        for (int r = 0; r < browser.row_count(); ++r) QCOMPARE(model->run_at(r).seed, int64_t(r));
        browser.set_method_filter("lori");
        QVERIFY(shown.wait(20000));
        for (int r = 0; r < browser.row_count(); ++r) QCOMPARE(model->run_at(r).method, std::string("lori-s"));
    }

    void run_browser_lists_reopens_and_compares() {
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(db_path()));
        RunBrowser* browser = window.browser();
        // The listing runs off the GUI thread: each change is shown when its listing arrives.
        auto listed_after = [browser](const std::function<void()>& change) {
            QSignalSpy shown(browser, &RunBrowser::listing_shown);
            change();
            return shown.wait(10000);
        };
        QTRY_COMPARE(browser->row_count(), 2);
        QVERIFY(listed_after([&] { browser->set_status_filter(RunStatus::failed); }));
        QCOMPARE(browser->row_count(), 0);
        QVERIFY(listed_after([&] { browser->set_status_filter(RunStatus::finished); }));
        QCOMPARE(browser->row_count(), 2);
        QVERIFY(listed_after([&] { browser->set_method_filter("LORA"); }));
        QCOMPARE(browser->row_count(), 2);
        // Typing: every keystroke asks for a listing; only the newest is shown.
        QSignalSpy shown(browser, &RunBrowser::listing_shown);
        for (const char* typed : {"s", "sd", "sd-", "sd-l", "sd-lo", "sd-lor", "sd-lora"})
            browser->set_method_filter(typed);
        QVERIFY(shown.wait(10000));
        QTRY_COMPARE(browser->listings_pending(), 0);  // every stale listing has arrived: none was shown
        QCOMPARE(browser->row_count(), 0);
        QCOMPARE(shown.last().at(0).toInt(), 0);
        QVERIFY(shown.size() <= 7);
        QVERIFY(listed_after([&] { browser->set_method_filter(""); }));
        QCOMPARE(browser->row_count(), 2);

        auto runs = window.store()->list_runs();
        const qint64 first = runs[0].id;
        QSignalSpy open(browser, &RunBrowser::open_requested);
        browser->select_runs({first});
        QCOMPARE(browser->selected_run_ids(), QList<qint64>{first});

        // Reopening a run loads its experiment's seeds (off the GUI thread): the same plots as live.
        QSignalSpy shown_run(&window, &MainWindow::run_shown);
        window.open_run(first);
        QVERIFY(shown_run.wait(20000));
        QCOMPARE(shown_run.front().at(0).toLongLong(), first);
        QVERIFY(shown_run.front().at(1).toBool());
        window.views()->draw_pending();
        const int64_t planned = runs[0].total_steps;
        const int loss = series_index(window.views()->loss(), "loss (mean ± std)");
        QVERIFY(loss >= 0);
        QCOMPARE(static_cast<int64_t>(window.views()->loss()->point_count(loss)), planned);
        QCOMPARE(window.views()->matrix()->filled_cells(), 3);

        QSignalSpy compared(&window, &MainWindow::runs_compared);
        window.compare_runs({runs[0].id, runs[1].id});
        QVERIFY(compared.wait(20000));
        QCOMPARE(compared.front().at(0).toInt(), 2);
        CompareView* compare = window.compare();
        QCOMPARE(compare->run_count(), 2);
        QCOMPARE(compare->loss()->series_count(), 2);
        QCOMPARE(static_cast<int64_t>(compare->loss()->point_count(0)), planned);
        QCOMPARE(compare->accuracy_after_task()->point_count(1), 2);  // Acc(0), Acc(1)
        QCOMPARE(compare->matrix_count(), 2);
        QCOMPARE(compare->metrics()->column_count(), 2);
        QVERIFY(compare->metrics()->text(0, 0) != QString("n/a"));
        // Each run's cost after its last task, as the trainer recorded it.
        const CostRow cost = run_cost(window.store()->method_state(runs[0].id)).final_row();
        for (const CostColumnInfo& info : cost_columns()) {
            const int row = compare->metrics()->cost_row(static_cast<int>(info.column));
            QCOMPARE(compare->metrics()->text(row, 0),
                     QString::fromStdString(format_cost(info.column, cost[info.column])));
            QVERIFY(compare->metrics()->text(row, 0) != QString::fromUtf8("—"));
        }

        // Screenshots of every view.
        const QStringList shots = window.save_screenshots(dir_.filePath("shots"));
        QVERIFY(shots.size() >= 12);
        QVERIFY(read_all(shots.back()).startsWith("\x89PNG"));
    }

    void variants_are_one_band_each_live_and_reopened() {
        // A real 2-variant × 2-seed experiment on a tiny stream: each view shows one band per variant
        // over its two seeds, and the live events and the reopened runs draw the same series.
        nlohmann::json doc = {{"name", "variants"},
                              {"device", "cpu"},
                              {"threads", 1},
                              {"seeds", {0, 1}},
                              {"cache_dir", dir_.filePath("variants-cache").toStdString()},
                              {"data", {{"train_per_class", 32}, {"test_per_class", 16}}},
                              {"foundation", {{"enabled", false}}},
                              {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
                              {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
                              {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
                              {"train", {{"epochs", 1}, {"batch_size", 32}}},
                              {"eval", {{"before_task", false}, {"random_init", false}}},
                              {"variants",
                               {{{"label", "lora"}, {"set", nlohmann::json::object()}},
                                {{"label", "frozen"}, {"set", {{"method.name", "frozen-backbone"}}}}}}};
        const ExperimentConfig config = parse_experiment_config(doc);
        auto store = std::make_shared<RunStore>(RunStore::open(dir_.filePath("variants.db").toStdString()));
        auto recorder = std::make_shared<EventRecorder>();
        auto fanout = std::make_shared<EventFanout>();
        fanout->add(std::make_shared<StoreListener>(store));
        fanout->add(recorder);
        CancelToken cancel;
        QCOMPARE(run_experiment(config, *fanout, cancel), RunStatus::finished);
        ExperimentData live;
        for (const Event& e : recorder->events()) live.apply(e);
        const auto stored = store->list_runs();
        QCOMPARE(static_cast<int>(stored.size()), 4);
        const ExperimentData reopened = ExperimentData::load_experiment_of(*store, stored.front().id);

        std::vector<QStringList> drawn;
        for (const ExperimentData* data : std::vector<const ExperimentData*>{&live, &reopened}) {
            const auto variants = data->variants();
            QCOMPARE(static_cast<int>(variants.size()), 2);
            QCOMPARE(QString::fromStdString(variants[0].label), QString("lora"));
            QCOMPARE(static_cast<int>(variants[0].runs.size()), 2);
            QCOMPARE(static_cast<int>(variants[1].runs.size()), 2);
            QWidget parent;
            RunViews views(&parent);
            views.show(*data);
            views.draw_pending();
            // Bands are drawn as a mean line between two fill graphs ("… − std", "… + std").
            auto curves = [](const widgets::PlotWidget* plot) {
                QStringList out;
                for (int i = 0; i < plot->series_count(); ++i)
                    if (!plot->series_name(i).endsWith(" std")) out << plot->series_name(i);
                return out;
            };
            const QStringList names = curves(views.loss());
            QCOMPARE(names, (QStringList{"lora, 2 seeds (mean ± std)", "frozen, 2 seeds (mean ± std)"}));
            const int steps = static_cast<int>(variants[0].runs[0]->steps.size());
            QVERIFY(steps > 0);
            QCOMPARE(views.loss()->point_count(series_index(views.loss(), names[0])), steps);
            const QStringList accuracy = curves(views.accuracy());
            QCOMPARE(accuracy, (QStringList{"lora, 2 seeds (mean ± std)", "frozen, 2 seeds (mean ± std)"}));
            QCOMPARE(views.accuracy()->point_count(series_index(views.accuracy(), accuracy[0])), 2);  // A_0 and A_1
            // One colour per variant, the same in every view (and distinct between the variants).
            auto color_of = [](const widgets::PlotWidget* plot, const QString& name) {
                return plot->plot()->graph(series_index(plot, name))->pen().color();
            };
            QCOMPARE(color_of(views.loss(), names[0]), color_of(views.accuracy(), accuracy[0]));
            QCOMPARE(color_of(views.loss(), names[1]), color_of(views.accuracy(), accuracy[1]));
            QVERIFY(color_of(views.loss(), names[0]) != color_of(views.loss(), names[1]));
            QCOMPARE(views.metrics()->column_count(), 2);
            QCOMPARE(views.matrix()->variant_count(), 8);  // per variant: accuracy and forgetting, class- and task-IL
            drawn.push_back(names + accuracy);
        }
        QCOMPARE(drawn[0], drawn[1]);
    }

    void method_views_draw_stored_state_and_analyses() {
        // A run written straight into a store with SD-LoRA state and every analysis, read back.
        RunStore store = RunStore::open(dir_.filePath("analyses.db").toStdString());
        RunStarted started;
        started.method = "sd-lora";
        started.num_tasks = 3;
        started.total_steps = 30;
        const int64_t id = store.insert_run(0, started);
        StreamDescribed stream;
        for (int t = 0; t < 3; ++t)
            stream.tasks.push_back(TaskInfo{t, "t" + std::to_string(t), {2 * t, 2 * t + 1}, "identity", 10, 10});
        store.insert_tasks(id, stream);
        for (int t = 0; t < 3; ++t) {
            std::vector<double> alphas;
            for (int k = 0; k <= t; ++k) alphas.push_back(1.0 - 0.1 * k);
            store.insert_method_state(id, MethodState{t, 10 * (t + 1), StateKey::magnitudes, alphas});
            store.insert_method_state(id, MethodState{t, 10 * t + 5, StateKey::direction_residual, {0.5 / (t + 1)}});
        }
        std::vector<AnalysisPoint> points;
        for (int k = 0; k <= 10; ++k)
            for (int task : {0, 1})
                points.push_back({AnalysisKey::merge_interpolation, SeriesKey::of_task(task), k / 10.0, 50.0 + k});
        for (SeriesKey::Kind series : {SeriesKey::Kind::alone, SeriesKey::Kind::cat, SeriesKey::Kind::linear})
            for (int t = 0; t < 3; ++t)
                points.push_back({AnalysisKey::lori_merge, SeriesKey::named(series), double(t), 80.0 - t});
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                points.push_back({AnalysisKey::lori_overlap_a, SeriesKey::of_task(i), double(j), i == j ? 1.0 : 0.1});
        for (int r : {1, 2, 4, 8})
            for (SeriesKey series : {kSeriesFoundationForgetting, kSeriesDownstreamForgetting})
                points.push_back({AnalysisKey::rank_sweep, series, double(r), 10.0 / r});
        store.insert_analysis_points(id, points);
        store.finish_run(id, RunStatus::finished, "", 1.0);

        const ExperimentData data = ExperimentData::load_experiment_of(store, id);
        QWidget parent;
        RunViews views(&parent);
        views.show(data);
        views.draw_pending();
        QCOMPARE(views.magnitudes()->series_count(), 3);  // α_0, α_1, α_2
        QCOMPARE(views.magnitudes()->point_count(0), 3);  // α_0 after every task
        QCOMPARE(views.magnitudes()->point_count(2), 1);
        QVERIFY(!views.magnitudes()->showing_empty_state());
        QCOMPARE(views.residual()->series_count(), 1);
        QCOMPARE(views.residual()->point_count(0), 3);
        QCOMPARE(views.interpolation()->chart_count(), 1);
        QCOMPARE(views.interpolation()->chart(0)->series_count(), 2);
        QCOMPARE(views.interpolation()->chart(0)->point_count(0), 11);
        {
            // An experiment of many runs (--preset compare: 12 with an interpolation) puts its charts three
            // to a row in a scroll area: the view asks for no more width than three charts, so the window
            // does not grow past the screen.
            InterpolationView one, many;
            one.show_runs({&data.runs.front()});
            many.show_runs(std::vector<const RunData*>(12, &data.runs.front()));
            QCOMPARE(many.chart_count(), 12);
            QCOMPARE(many.chart(11)->point_count(0), 11);
            QVERIFY2(many.minimumSizeHint().width() <= 3 * one.minimumSizeHint().width() + 64,
                     qPrintable(QStringLiteral("%1 px for 12 charts, %2 px for one")
                                    .arg(many.minimumSizeHint().width())
                                    .arg(one.minimumSizeHint().width())));
        }
        QCOMPARE(views.lori()->merge_chart()->series_count(), 3);
        QCOMPARE(views.rank_sweep()->series_count(), 2);
        QCOMPARE(views.rank_sweep()->point_count(0), 4);
        QVERIFY(views.foundation_classes()->showing_empty_state());  // no per-class rows stored
    }

    void shortcuts_and_remembered_layout() {
        {
            MainWindow window;
            QCOMPARE(window.start_action()->shortcut(), QKeySequence("Ctrl+R"));
            QCOMPARE(window.cancel_action()->shortcut(), QKeySequence("Ctrl+."));
            QCOMPARE(window.pause_action()->shortcut(), QKeySequence("Ctrl+P"));
            auto* dock = window.view_dock(ViewId::rank_sweep);
            QVERIFY(dock);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            dock->setFloating(true);
            window.view_dock(ViewId::lori)->close();
            QVERIFY(window.close());
        }
        MainWindow reopened;  // restores the layout saved when the first window closed
        reopened.show();
        QVERIFY(QTest::qWaitForWindowExposed(&reopened));
        QVERIFY(reopened.view_dock(ViewId::rank_sweep)->isFloating());
        QVERIFY(!reopened.view_dock(ViewId::lori)->isVisible());
        QVERIFY(reopened.view_dock(ViewId::loss)->isVisible());
    }

    void config_as_json_edits_the_same_config() {
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.config_json_action());
        ConfigEditor* editor = window.editor();
        editor->set_document(tiny_config(dir_.filePath("cache"), {0}));
        QVERIFY(editor->valid());
        ConfigJsonDialog dialog(editor, &window);
        // The dialog shows the form's document.
        QCOMPARE(nlohmann::json::parse(dialog.text().toStdString()), editor->document());
        // An edit in the JSON reaches the form.
        nlohmann::json doc = editor->document();
        doc["train"]["epochs"] = 4;
        dialog.set_text(QString::fromStdString(doc.dump(2)));
        QVERIFY(dialog.apply());
        QCOMPARE(editor->document()["train"]["epochs"].get<int>(), 4);
        QVERIFY(editor->valid());
        // Not JSON: refused with the parser's position; the form is unchanged.
        const nlohmann::json before = editor->document();
        dialog.set_text(QStringLiteral("{\"train\": {\"epochs\": 5,}"));
        QVERIFY(!dialog.apply());
        QVERIFY2(dialog.message().contains("not JSON"), qPrintable(dialog.message()));
        QCOMPARE(editor->document(), before);
        // A bad value: applied, and the form's validation names the field.
        doc["train"]["optimizer"]["lr"] = -1.0;
        dialog.set_text(QString::fromStdString(doc.dump()));
        QVERIFY(dialog.apply());
        QVERIFY(!editor->valid());
        QCOMPARE(editor->error_field(), QString("train.optimizer.lr"));
        QVERIFY(dialog.message().contains("train.optimizer.lr"));
        QVERIFY(!editor->field_error_text("train.optimizer.lr").isEmpty());
    }

    void every_view_says_what_it_shows() {
        MainWindow window;
        window.set_confirm_close(false);
        QSet<QString> captions;
        for (const auto& view : window.views()->views()) {
            QVERIFY(view.panel);
            auto* caption = view.panel->findChild<QLabel*>(QStringLiteral("caption"));
            QVERIFY2(caption, qPrintable(view.title));
            QCOMPARE(caption->text(), view.caption);
            QVERIFY2(caption->text().size() > 40, qPrintable(view.title));  // a sentence, not a label
            QVERIFY(view.widget->parentWidget() == view.panel);
            captions.insert(caption->text());
        }
        QCOMPARE(captions.size(), static_cast<int>(window.views()->views().size()));  // each its own
        // The docks hold the captioned panels.
        for (const auto& view : window.views()->views()) {
            QDockWidget* dock = window.view_dock(view.id);
            QVERIFY2(dock, qPrintable(view_name(view.id)));
            QCOMPARE(dock->widget(), view.panel);
        }
    }

    void dark_palette_reaches_the_plots() {
        widgets::PlotWidget plot("p", "x", "y");
        QPalette dark = plot.palette();
        dark.setColor(QPalette::Base, QColor(30, 30, 30));
        dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
        plot.setPalette(dark);
        QCOMPARE(plot.plot()->xAxis->tickLabelColor(), QColor(230, 230, 230));
        QCOMPARE(plot.plot()->toPixmap(60, 40).toImage().pixelColor(1, 1), QColor(30, 30, 30));
    }

    void closing_during_a_run_cancels_it() {
        auto* window = new MainWindow;
        window->set_confirm_close(false);
        QVERIFY(window->open_database(db_path()));
        nlohmann::json config = tiny_config(dir_.filePath("cache"), {3});
        config["train"]["epochs"] = 50;
        window->editor()->set_document(config);
        QVERIFY(window->start_run());
        QTRY_VERIFY_WITH_TIMEOUT(
            !window->session()->data().runs.empty() && !window->session()->data().runs.back().steps.empty(), 120000);
        QVERIFY(window->close());
        QVERIFY(!window->session()->running());
        const auto runs = window->store()->list_runs();
        QCOMPARE(runs.back().seed, int64_t(3));
        QCOMPARE(runs.back().status, RunStatus::cancelled);
        delete window;
    }

    // Bad input found by the job's preflight: one message, no run stored, no window waiting forever.
    void bad_input_is_refused_before_anything_is_stored() {
        auto store = std::make_shared<RunStore>(RunStore::open(dir_.filePath("refused.db").toStdString()));
        EngineSession session;
        QSignalSpy refused(&session, &EngineSession::cannot_start);
        QSignalSpy finished(&session, &EngineSession::experiment_finished);
        nlohmann::json config = tiny_config(dir_.filePath("cache"), {0});
        config["data"]["train_per_class"] = 100000;  // more than Fashion-MNIST has
        session.start(parse_experiment_config(config), store);
        QTRY_COMPARE_WITH_TIMEOUT(refused.count(), 1, 60000);
        QVERIFY(refused.at(0).at(0).toString().contains(QStringLiteral("data.train_per_class")));
        QTRY_COMPARE(finished.count(), 1);
        QVERIFY(!session.running());
        QVERIFY(store->list_runs().empty());
        QVERIFY(store->list_experiments().empty());
    }

    void preset_requirements_say_what_is_expected_there() {
        // A document that, like a shipped preset, requires backbone.weights, pointing at a missing
        // file: the window's preflight refusal names the file and what belongs there, as the CLI does.
        MainWindow window;
        window.set_confirm_close(false);
        QVERIFY(window.open_database(dir_.filePath("requires.db")));
        nlohmann::json doc = tiny_config(dir_.filePath("cache"), {0});
        doc["backbone"]["weights"] = dir_.filePath("missing/vit.safetensors").toStdString();
        doc["requires"] = {{"backbone.weights", "a timm vit_tiny safetensors file (test)"}};
        doc["description"] = "test preset";
        window.editor()->set_document(doc);
        QVERIFY2(window.editor()->valid(), qPrintable(window.editor()->error_message()));
        QSignalSpy refused(window.session(), &EngineSession::cannot_start);
        QTimer closer;  // the refusal opens a message box: close it when it shows
        QObject::connect(&closer, &QTimer::timeout, [&] {
            for (QWidget* w : QApplication::topLevelWidgets())
                if (auto* box = qobject_cast<QMessageBox*>(w); box && box->isVisible()) box->accept();
        });
        closer.start(50);
        QVERIFY(window.start_run());
        QTRY_COMPARE_WITH_TIMEOUT(refused.count(), 1, 60000);
        const QString message = refused.at(0).at(0).toString();
        QVERIFY2(message.contains(QStringLiteral("backbone.weights")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("(expected there: a timm vit_tiny safetensors file (test))")),
                 qPrintable(message));

        // The Presets menu shows each preset's one-line description as its tooltip and status tip.
        QMenu* presets = nullptr;
        for (QMenu* menu : window.findChildren<QMenu*>())
            if (menu->title() == QObject::tr("&Presets")) presets = menu;
        QVERIFY(presets);
        Q_EMIT presets->aboutToShow();  // as when the menu opens
        int described = 0;
        for (QAction* action : presets->actions()) {
            const std::string description = preset_description(action->text().toStdString());
            if (description.empty()) continue;
            QCOMPARE(action->toolTip(), QString::fromStdString(description));
            QCOMPARE(action->statusTip(), QString::fromStdString(description));
            ++described;
        }
        QVERIFY(described > 0);
    }
};

QTEST_MAIN(GuiTests)
#include "gui_test.moc"
