#include "app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>

#include "app/adapter_export.h"
#include "app/app_settings.h"
#include "app/compare_view.h"
#include "app/config_editor.h"
#include "app/config_json_dialog.h"
#include "app/engine_session.h"
#include "app/export_dialog.h"
#include "app/prepare_dialog.h"
#include "app/run_browser.h"
#include "app/run_views.h"
#include "app/shard_merge_worker.h"
#include "app/store_worker.h"
#include "engine/config/preset_notes.h"
#include "engine/config/presets.h"
#include "engine/store/run_store.h"

// Q_INIT_RESOURCE must be used outside any namespace; it also keeps the linker from dropping the
// resources compiled into the static lorica_app library.
static void init_lorica_resources() { Q_INIT_RESOURCE(lorica); }

namespace lorica::app {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    init_lorica_resources();
    setWindowTitle(tr("Lorica"));
    setWindowIcon(QIcon(QStringLiteral(":/lorica/lorica.svg")));
    setDockNestingEnabled(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowNestedDocks | QMainWindow::AllowTabbedDocks);
    resize(1400, 900);

    session_ = new EngineSession(this);
    editor_ = new ConfigEditor(this);
    views_ = new RunViews(this);
    browser_ = new RunBrowser(this);
    compare_ = new CompareView(this);

    redraw_timer_.setSingleShot(true);
    redraw_timer_.setInterval(100);
    connect(&redraw_timer_, &QTimer::timeout, this, &MainWindow::redraw);

    build_actions();
    build_docks();

    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setMaximumWidth(260);
    progress_->setTextVisible(true);
    progress_->setFormat(QStringLiteral("%p%"));
    progress_label_ = new QLabel(tr("idle"), this);
    statusBar()->addPermanentWidget(progress_label_);
    statusBar()->addPermanentWidget(progress_);

    connect(editor_, &ConfigEditor::validity_changed, this, &MainWindow::update_actions);
    connect(editor_, &ConfigEditor::start_requested, this, [this] { start_run(); });
    connect(editor_, &ConfigEditor::edited, this,
            [this] { set_settings_config_json(QString::fromStdString(editor_->document().dump())); });
    connect(editor_, &ConfigEditor::validated, this, &MainWindow::update_actions);  // Prepare follows the data
    connect(session_, &EngineSession::progress_changed, this, [this](const Progress& p) {
        progress_->setValue(static_cast<int>(p.fraction * 1000));
        progress_label_->setText(p.text());
    });
    connect(session_, &EngineSession::data_changed, this, [this] {
        if (showing_live_ && !redraw_timer_.isActive()) redraw_timer_.start();
    });
    connect(session_, &EngineSession::run_started, this, [this](int index, qint64 seed, const QString& method) {
        statusBar()->showMessage(tr("run %1 started: %2, seed %3").arg(index + 1).arg(method).arg(seed), 5000);
        browser_->refresh();
    });
    connect(session_, &EngineSession::cannot_start, this,
            [this](const QString& message) { QMessageBox::warning(this, tr("Cannot start"), message); });
    connect(session_, &EngineSession::warning, this,
            [this](const QString& message) { statusBar()->showMessage(tr("warning: %1").arg(message), 10000); });
    connect(session_, &EngineSession::run_finished, this, [this](int index, RunStatus status, const QString& message) {
        statusBar()->showMessage(
            tr("run %1 %2%3")
                .arg(index + 1)
                .arg(QString::fromLatin1(to_string(status)), message.isEmpty() ? QString() : ": " + message),
            10000);
    });
    connect(session_, &EngineSession::experiment_finished, this, [this](RunStatus status) {
        progress_label_->setText(tr("experiment %1").arg(QString::fromLatin1(to_string(status))));
        if (status == RunStatus::finished) progress_->setValue(1000);
        unfold_setup_column();
        redraw();
        browser_->refresh();
        update_actions();
    });
    connect(browser_, &RunBrowser::open_requested, this, &MainWindow::open_run);
    connect(browser_, &RunBrowser::compare_requested, this, &MainWindow::compare_runs);
    connect(browser_, &RunBrowser::resume_requested, this, [this](qint64 id) { resume_run(id); });

    // Restore: config, database, layout.
    const QString saved = settings_config_json();
    nlohmann::json document = nlohmann::json::parse(saved.toStdString(), nullptr, false);
    if (saved.isEmpty() || document.is_discarded()) {
        try {
            document = read_json_file(find_preset("default"));
        } catch (const std::exception&) {
            document = nlohmann::json::object();
        }
    }
    editor_->set_document(document);
    restoreGeometry(settings_window_geometry());
    restoreState(settings_window_state(), kWindowStateVersion);
    open_database(settings_database_path());
    views_->show(shown_);
    update_actions();
}

MainWindow::~MainWindow() = default;

void MainWindow::build_actions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New database…"), QKeySequence::New, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("New results database"), QStringLiteral("lorica.db"),
                                                          tr("SQLite database (*.db)"));
        if (!path.isEmpty()) open_database(path);
    });
    file->addAction(tr("&Open database…"), QKeySequence::Open, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open results database"), QFileInfo(settings_database_path()).path(),
                                         tr("SQLite database (*.db *.sqlite);;All files (*)"));
        if (!path.isEmpty()) open_database(path);
    });
    merge_ = file->addAction(tr("&Merge shards…"), this, [this] {
        const QStringList shards = QFileDialog::getOpenFileNames(
            this, tr("Merge shard databases into the open database"), QFileInfo(settings_database_path()).path(),
            tr("SQLite database (*.sqlite *.db);;All files (*)"));
        if (!shards.isEmpty()) merge_shards(shards);
    });
    merge_->setToolTip(tr("Copy the runs of sweep shards (one database per job) into this database"));
    file->addSeparator();
    file->addAction(tr("&Load config…"), QKeySequence(tr("Ctrl+L")), this, &MainWindow::load_config_dialog);
    file->addAction(tr("&Save config…"), QKeySequence::Save, this, &MainWindow::save_config_dialog);
    file->addSeparator();
    export_ = file->addAction(tr("&Export adapters…"), this, [this] {
        const auto ids = browser_->selected_run_ids();
        if (!worker_) return;
        ExportDialog dialog(worker_.get(), ids.isEmpty() ? 0 : ids.front(), this);
        dialog.exec();
    });
    export_->setShortcut(QKeySequence(tr("Ctrl+E")));
    export_->setEnabled(export_available());
    export_->setToolTip(export_available() ? tr("Export a run's adapters in the PEFT layout")
                                           : QString::fromStdString(export_unavailable_reason()));
    file->setToolTipsVisible(true);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* experiment = menuBar()->addMenu(tr("&Experiment"));
    presets_menu_ = experiment->addMenu(tr("&Presets"));
    for (const std::string& name : list_presets()) {
        const QString preset = QString::fromStdString(name);
        QAction* action = presets_menu_->addAction(preset, this, [this, preset] {
            try {
                editor_->load_preset(preset);
                set_settings_config_json(QString::fromStdString(editor_->document().dump()));
            } catch (const std::exception& e) {
                QMessageBox::warning(this, tr("Preset"), QString::fromUtf8(e.what()));
            }
        });
        action->setData(preset);
    }
    // Each preset's one-line description (what `lorica-cli presets` prints) as tooltip and status
    // tip, read when the menu first opens (not at start-up: one file per preset).
    presets_menu_->setToolTipsVisible(true);
    connect(presets_menu_, &QMenu::aboutToShow, this, [this] {
        if (presets_described_) return;
        presets_described_ = true;
        for (QAction* action : presets_menu_->actions()) {
            QString description;
            try {
                description = QString::fromStdString(preset_description(action->data().toString().toStdString()));
            } catch (const std::exception&) {}
            action->setToolTip(description.isEmpty() ? action->data().toString() : description);
            action->setStatusTip(description);
        }
    });
    experiment->addSeparator();
    prepare_ = experiment->addAction(tr("Prepare &data set…"), this, [this] { prepare_data(); });
    prepare_->setIconText(tr("Prepare…"));
    // The set-up's button beside data.prepared (config_editor_pages.cpp) is this action too.
    if (auto* button = editor_->findChild<QToolButton*>(QStringLiteral("data.prepared.prepare")))
        button->setDefaultAction(prepare_);
    experiment->setToolTipsVisible(true);
    experiment->addSeparator();
    start_ = experiment->addAction(tr("&Start"), this, [this] { start_run(); });
    start_->setShortcut(QKeySequence(tr("Ctrl+R")));
    pause_ = experiment->addAction(tr("&Pause"), this, [this] {
        if (session_->paused()) {
            session_->resume();
            statusBar()->showMessage(tr("resumed"), 3000);
        } else {
            session_->pause();
            statusBar()->showMessage(tr("paused (Ctrl+P resumes)"));
        }
        update_actions();
    });
    pause_->setShortcut(QKeySequence(tr("Ctrl+P")));
    cancel_ = experiment->addAction(tr("&Cancel"), this, [this] {
        session_->cancel();
        statusBar()->showMessage(tr("cancelling… (takes effect within one step)"));
    });
    cancel_->setShortcut(QKeySequence(tr("Ctrl+.")));
    resume_ = experiment->addAction(tr("Resume &selected run"), this, [this] {
        const auto ids = browser_->selected_run_ids();
        if (ids.isEmpty()) {
            statusBar()->showMessage(tr("select an interrupted, cancelled or failed run in the run browser first"),
                                     5000);
            return;
        }
        resume_run(ids.front());
    });
    resume_->setToolTip(tr("Continue the selected run from its last task checkpoint, into the same run record"));

    run_toolbar_ = addToolBar(tr("Run"));
    run_toolbar_->setObjectName(QStringLiteral("toolbar_run"));
    run_toolbar_->addAction(start_);
    run_toolbar_->addAction(pause_);
    run_toolbar_->addAction(cancel_);

    view_menu_ = menuBar()->addMenu(tr("&View"));
    config_json_ = view_menu_->addAction(tr("Config as &JSON…"), this, [this] {
        ConfigJsonDialog dialog(editor_, this);
        dialog.exec();
    });
    config_json_->setShortcut(QKeySequence(tr("Ctrl+J")));
    view_menu_->addSeparator();
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Lorica"), this, [this] {
        QMessageBox::about(
            this, tr("About Lorica"),
            tr("<b>Lorica %1</b><br>A workbench for continual learning with low-rank adapters.<br>"
               "Results database: %2")
                .arg(QStringLiteral(LORICA_VERSION), store_ ? QString::fromStdString(store_->path()) : QString()));
    });
}

QDockWidget* MainWindow::add_dock(const QString& id, const QString& title, QWidget* widget, Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(QStringLiteral("dock_") + id);
    dock->setWidget(widget);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    addDockWidget(area, dock);
    view_menu_->addAction(dock->toggleViewAction());
    docks_.emplace_back(dock, id);
    return dock;
}

void MainWindow::build_docks() {
    setCentralWidget(nullptr);
    setup_dock_ = add_dock("experiment", tr("Set-up"), editor_, Qt::LeftDockWidgetArea);
    runs_dock_ = add_dock("runs", tr("Runs"), browser_, Qt::LeftDockWidgetArea);
    tabifyDockWidget(setup_dock_, runs_dock_);
    setup_dock_->raise();
    QDockWidget* first = nullptr;
    QDockWidget* second = nullptr;
    for (const auto& view : views_->views()) {
        QDockWidget* dock = add_dock(view_name(view.id), view.title, view.panel, Qt::RightDockWidgetArea);
        const ViewId id = view.id;
        view_docks_[id] = dock;
        connect(dock, &QDockWidget::visibilityChanged, this, [this, id](bool visible) {
            if (visible) views_->view_shown(id);
        });
        if (!first) {
            first = dock;
        } else if (!second) {
            second = dock;
            splitDockWidget(first, second, Qt::Vertical);
        } else if (view.id == ViewId::matrix || view.id == ViewId::metrics) {
            tabifyDockWidget(first, dock);
        } else {
            tabifyDockWidget(second, dock);
        }
    }
    // A method-specific view's dock only while the shown runs offer it (their method records declare
    // what it draws, or they recorded it: RunViews::offers).
    connect(views_, &RunViews::offered_views_changed, this, &MainWindow::show_offered_views);
    compare_dock_ = add_dock("compare", tr("Compare"), compare_, Qt::RightDockWidgetArea);
    tabifyDockWidget(first, compare_dock_);
    first->raise();
    second->raise();
    resizeDocks({setup_dock_}, {430}, Qt::Horizontal);
    // One click shows the set-up again while a run has it folded away (fold_setup_column).
    QAction* show_setup = setup_dock_->toggleViewAction();
    show_setup->setToolTip(tr("Show or hide the set-up panel (it folds away while a run trains)"));
    run_toolbar_->addSeparator();
    run_toolbar_->addAction(show_setup);
}

QDockWidget* MainWindow::view_dock(ViewId id) const {
    const auto it = view_docks_.find(id);
    return it == view_docks_.end() ? nullptr : it->second;
}

void MainWindow::fold_setup_column() {
    folded_.clear();
    folded_width_ = setup_dock_->width();
    for (QDockWidget* dock : {setup_dock_, runs_dock_})
        if (dock->isVisibleTo(this) && !dock->isFloating() && dockWidgetArea(dock) == dockWidgetArea(setup_dock_)) {
            dock->hide();
            folded_.push_back(dock);
        }
}

void MainWindow::unfold_setup_column() {
    for (QDockWidget* dock : folded_) dock->show();
    if (!folded_.empty() && setup_dock_->isVisibleTo(this)) {
        setup_dock_->raise();
        // A hidden column's width is not kept: give it back what it had.
        if (folded_width_ > 0) resizeDocks({setup_dock_}, {folded_width_}, Qt::Horizontal);
    }
    folded_.clear();
}

bool MainWindow::open_database(const QString& path) {
    if (session_->running()) {
        QMessageBox::information(this, tr("Database"), tr("Wait for the run to end before switching databases."));
        return false;
    }
    try {
        store_ = std::make_shared<RunStore>(RunStore::open(path.toStdString()));
        worker_ = std::make_unique<StoreWorker>(store_);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot open database"), QString::fromUtf8(e.what()));
        return false;
    }
    set_settings_database_path(path);
    browser_->set_store(store_);
    setWindowTitle(tr("Lorica — %1").arg(QDir::toNativeSeparators(path)));
    statusBar()->showMessage(tr("database %1").arg(path), 5000);
    update_actions();
    return true;
}

void MainWindow::merge_shards(const QStringList& shards) {
    if (!store_) {
        statusBar()->showMessage(tr("open a database before merging shards into it"), 10000);
        return;
    }
    merge_->setEnabled(false);
    statusBar()->showMessage(tr("merging %n shard(s)…", nullptr, static_cast<int>(shards.size())));
    merge_shards_in_background(
        QString::fromStdString(store_->path()), shards, this, [this](const ShardMergeOutcome& r) {
            merge_->setEnabled(true);
            browser_->refresh();
            const QString summary = tr("merged: %1 run(s) added, %2 already present, in %3 s")
                                        .arg(r.runs_added)
                                        .arg(r.runs_skipped)
                                        .arg(r.seconds, 0, 'f', 1);
            statusBar()->showMessage(summary, 15000);
            if (!r.ok()) {
                auto* box = new QMessageBox(QMessageBox::Warning, tr("Merge shards"),
                                            summary + QStringLiteral("\n\n") +
                                                tr("Not merged (left out, the database unchanged by them):") +
                                                QStringLiteral("\n") + r.errors.join(QStringLiteral("\n")),
                                            QMessageBox::Ok, this);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            }
            Q_EMIT shards_merged(r.ok(), r.runs_added);
        });
}

bool MainWindow::start_run() {
    if (session_->running()) {
        statusBar()->showMessage(tr("a run is already in progress"), 5000);
        return false;
    }
    if (!editor_->valid()) {
        statusBar()->showMessage(tr("cannot start: %1").arg(editor_->error_message()), 10000);
        return false;
    }
    if (!store_ && !open_database(settings_database_path())) return false;
    editor_->stop_lookups();  // the set-up's look-ups build models from the generator the run seeds
    try {
        // The document's preset notes (a preset's "requires"): preflight then names what belongs in
        // a missing path, as the CLI does. Malformed notes are the editor's config problem, not ours.
        PresetNotes notes;
        try {
            notes = read_preset_notes(editor_->document());
        } catch (const std::exception&) {}
        session_->start(editor_->config(), store_, std::move(notes));
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot start"), QString::fromUtf8(e.what()));
        return false;
    }
    showing_live_ = true;
    fold_setup_column();
    progress_->setValue(0);
    progress_label_->setText(tr("starting…"));
    views_->show(session_->data());
    update_actions();
    return true;
}

bool MainWindow::resume_run(qint64 run_id) {
    if (session_->running()) {
        statusBar()->showMessage(tr("a run is already in progress"), 5000);
        return false;
    }
    if (!store_) return false;
    editor_->stop_lookups();
    try {
        session_->start_resume(run_id, store_);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot resume"), QString::fromUtf8(e.what()));
        return false;
    }
    showing_live_ = true;
    fold_setup_column();
    progress_->setValue(0);
    progress_label_->setText(tr("resuming run %1…").arg(run_id));
    views_->show(session_->data());
    update_actions();
    return true;
}

void MainWindow::open_run(qint64 run_id) {
    if (!worker_) return;
    statusBar()->showMessage(tr("opening run %1…").arg(run_id));
    worker_->submit<ExperimentData>(
        StoreWorker::Lane::open_run,
        [run_id](const RunStore& store) { return ExperimentData::load_experiment_of(store, run_id); },
        [this, run_id](ExperimentData data, const QString& error) {
            if (!error.isEmpty()) {
                statusBar()->showMessage(tr("cannot open run %1: %2").arg(run_id).arg(error), 10000);
                Q_EMIT run_shown(run_id, false);
                return;
            }
            shown_ = std::move(data);
            showing_live_ = false;
            redraw();
            statusBar()->showMessage(
                tr("showing run %1 (%2 run(s) of its experiment)").arg(run_id).arg(shown_.runs.size()), 5000);
            // The views on screen draw one per turn: the run is shown when the last one is.
            if (views_->drawing_visible())
                connect(
                    views_, &RunViews::visible_drawn, this, [this, run_id] { Q_EMIT run_shown(run_id, true); },
                    Qt::SingleShotConnection);
            else
                Q_EMIT run_shown(run_id, true);
        });
}

void MainWindow::compare_runs(const QList<qint64>& run_ids) {
    if (!worker_) return;
    std::vector<int64_t> ids(run_ids.begin(), run_ids.end());
    statusBar()->showMessage(tr("reading %n run(s) to compare…", nullptr, static_cast<int>(ids.size())));
    worker_->submit<std::vector<RunData>>(
        StoreWorker::Lane::compare_runs,
        [ids](const RunStore& store) {
            std::vector<RunData> runs;
            for (int64_t id : ids) runs.push_back(RunData::load(store, id));
            return runs;
        },
        [this](std::vector<RunData> runs, const QString& error) {
            if (!error.isEmpty()) {
                statusBar()->showMessage(tr("cannot compare: %1").arg(error), 10000);
                Q_EMIT runs_compared(0);
                return;
            }
            const int count = static_cast<int>(runs.size());
            compare_->show_runs(std::move(runs));
            compare_dock_->show();
            compare_dock_->raise();
            statusBar()->clearMessage();
            Q_EMIT runs_compared(count);
        });
}

PrepareDialog* MainWindow::prepare_data() {
    if (prepare_dialog_) {
        prepare_dialog_->show();
        prepare_dialog_->raise();
        prepare_dialog_->activateWindow();
        return prepare_dialog_;
    }
    if (!editor_->valid()) {
        statusBar()->showMessage(tr("cannot prepare: %1").arg(editor_->error_message()), 10000);
        return nullptr;
    }
    if (const QString reason = prepare_unavailable_reason(editor_->config()); !reason.isEmpty()) {
        statusBar()->showMessage(tr("nothing to prepare: %1").arg(reason), 10000);
        return nullptr;
    }
    auto* dialog = new PrepareDialog(editor_->config(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PrepareDialog::prepared, this, [this](const QString& dir, const PrepareOutcome& o) {
        editor_->set_field_text(QStringLiteral("data.prepared"), dir);
        statusBar()->showMessage(tr("data set prepared: %1 images in %2; data.prepared is set to it, so the next "
                                    "run reads the prepared images")
                                     .arg(o.images)
                                     .arg(QDir::toNativeSeparators(dir)),
                                 15000);
    });
    connect(dialog, &PrepareDialog::ended, this, [this](const PrepareOutcome& o) {
        if (o.status == PrepareOutcome::Status::cancelled)
            statusBar()->showMessage(tr("preparing cancelled: preparing into %1 again continues where it stopped")
                                         .arg(QDir::toNativeSeparators(o.dir)),
                                     15000);
        else if (o.status == PrepareOutcome::Status::failed)
            statusBar()->showMessage(tr("cannot prepare: %1").arg(o.message), 15000);
    });
    prepare_dialog_ = dialog;
    dialog->show();
    return dialog;
}

void MainWindow::redraw() {
    ++redraws_;
    if (showing_live_)
        views_->show_grown(session_->data());  // the live run only gained points: its loss curve appends
    else
        views_->show(shown_);
}

void MainWindow::update_actions() {
    const bool running = session_->running();
    start_->setEnabled(!running && editor_->valid());
    start_->setToolTip(editor_->valid() ? tr("Start the experiment (Ctrl+R)")
                                        : tr("Fix the config first: %1").arg(editor_->error_message()));
    pause_->setEnabled(running);
    pause_->setText(session_->paused() ? tr("&Resume") : tr("&Pause"));
    cancel_->setEnabled(running);
    resume_->setEnabled(!running && store_ != nullptr);
    const QString unprepared = editor_->valid() ? prepare_unavailable_reason(editor_->config())
                                                : tr("Fix the config first: %1").arg(editor_->error_message());
    prepare_->setEnabled(unprepared.isEmpty());
    prepare_->setToolTip(unprepared.isEmpty() ? tr("Decode every image of this config's data once into a folder "
                                                   "that runs read instead (data.prepared)")
                                              : unprepared);
    editor_->setEnabled(!running);
}

QString MainWindow::progress_text() const { return progress_label_->text(); }

void MainWindow::load_config_dialog() {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Load experiment config"), QString(), tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    try {
        editor_->load_file(path);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot load config"), QString::fromUtf8(e.what()));
    }
}

void MainWindow::save_config_dialog() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment config"),
                                                      QStringLiteral("experiment.json"), tr("JSON (*.json)"));
    if (!path.isEmpty() && !editor_->save_file(path))
        QMessageBox::warning(this, tr("Cannot save config"), tr("Cannot write %1").arg(path));
}

void MainWindow::show_offered_views() {
    for (const auto& view : views_->views())
        if (!drawn_keys(view.id).empty())
            if (QDockWidget* dock = view_dock(view.id)) dock->setVisible(views_->offers(view.id));
}

QStringList MainWindow::save_screenshots(const QString& dir) {
    QDir().mkpath(dir);
    QStringList files;
    auto save = [&](QWidget* widget, const QString& name) {
        QApplication::processEvents();
        const QString path = QDir(dir).filePath(name + QStringLiteral(".png"));
        if (widget->grab().save(path)) files << path;
    };
    views_->draw_pending();
    for (const auto& [dock, name] : docks_) {
        dock->show();
        dock->raise();
        QApplication::processEvents();
        for (auto* plot : dock->findChildren<QWidget*>()) plot->update();
        save(dock, name);
    }
    show_offered_views();  // every view was shown for its own picture; the window as a user sees it
    for (QDockWidget* dock : {view_dock(ViewId::loss), view_dock(ViewId::accuracy), setup_dock_})
        if (dock) dock->raise();
    save(this, QStringLiteral("main"));
    return files;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (session_->running()) {
        if (confirm_close_ &&
            QMessageBox::question(
                this, tr("Run in progress"),
                tr("An experiment is running. Cancel it and quit?\nEverything measured so far stays in "
                   "the database; the run is marked cancelled.")) != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        session_->cancel_and_wait();
    }
    unfold_setup_column();  // the saved layout is the one without a run
    set_settings_window(saveGeometry(), saveState(kWindowStateVersion));
    event->accept();
}

}  // namespace lorica::app
