// lorica: the desktop workbench (Qt 6 Widgets). The same engine as lorica-cli, with live plots.
//
//   lorica [--db PATH]
//   lorica --run-preset NAME [--set key=value]... [--screenshots DIR]
//       starts preset NAME at once; with --screenshots, saves a PNG of the main window and of every
//       view into DIR when the experiment ends, then quits (scripts/screenshots.sh).
//   lorica [--run-preset NAME [--set key=value]...] --setup-screenshots DIR
//       loads the preset (default: the default experiment) into the set-up panel without starting
//       it, saves a PNG of every set-up step into DIR (setup_<n>_<step>.png), then quits.
//   lorica --run-preset NAME [--set key=value]... --prepare-screenshots DIR
//       opens Experiment → Prepare data set… for the config (its data streamed: an image folder),
//       prepares it into DIR/prepared, saves prepare_running.png once half the images are done and
//       prepare_done.png when it ends, then quits.
//   lorica --version      Lorica and LibTorch versions, whether CUDA is usable (needs no display)
// LORICA_TORCH_LIB=DIR: run on the LibTorch with CUDA in DIR (engine/runtime/torch_library.h).

#include <cstdio>
#include <cstring>
#include <memory>

#include <QApplication>
#include <QDir>
#include <QStatusBar>
#include <QCommandLineParser>
#include <QIcon>
#include <QTimer>
#include <QToolButton>

#include "app/config_editor.h"
#include "app/engine_session.h"
#include "app/main_window.h"
#include "app/prepare_dialog.h"
#include "app/run_browser.h"
#include "app/store_worker.h"
#include "engine/config/presets.h"
#include "engine/store/run_store.h"
#include "engine/runtime/runtime_info.h"
#include "engine/runtime/torch_library.h"
#include "engine/util/log.h"
#include "engine/util/paths.h"

int main(int argc, char** argv) {
    try {
        lorica::use_torch_library_from_env(argv);
    } catch (const lorica::TorchLibraryError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    // Before Qt starts, so that it works without a display.
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-v") == 0) {
            std::printf("%s", lorica::version_text("lorica", lorica::runtime_info()).c_str());
            return 0;
        }
    }
    QApplication app(argc, argv);
    // Settings in ~/.config/lorica/lorica.conf. The default database is the CLI's
    // (engine/util/paths.h: $XDG_DATA_HOME/lorica/lorica.db), so both front ends see the same runs.
    QApplication::setOrganizationName(QStringLiteral("lorica"));
    QApplication::setApplicationName(QStringLiteral("lorica"));
    QApplication::setApplicationVersion(QStringLiteral(LORICA_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/lorica/lorica.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Lorica: a workbench for continual learning with low-rank adapters"));
    parser.addHelpOption();
    QCommandLineOption version({"v", "version"},
                               QStringLiteral("print the Lorica and LibTorch versions and whether CUDA is usable"));
    QCommandLineOption db({"d", "db"}, QStringLiteral("results database to open"), QStringLiteral("PATH"));
    QCommandLineOption run_preset(QStringLiteral("run-preset"), QStringLiteral("start this preset at once"),
                                  QStringLiteral("NAME"));
    QCommandLineOption set({"s", "set"}, QStringLiteral("override a config field (with --run-preset), repeatable"),
                           QStringLiteral("key=value"));
    QCommandLineOption screenshots(QStringLiteral("screenshots"),
                                   QStringLiteral("save a PNG of every view into DIR when the run ends, then quit"),
                                   QStringLiteral("DIR"));
    QCommandLineOption setup_screenshots(QStringLiteral("setup-screenshots"),
                                         QStringLiteral("save a PNG of every set-up step into DIR, then quit (no run)"),
                                         QStringLiteral("DIR"));
    QCommandLineOption prepare_screenshots(
        QStringLiteral("prepare-screenshots"),
        QStringLiteral("prepare the preset's data into DIR/prepared, save PNGs of the dialog into DIR, then quit"),
        QStringLiteral("DIR"));
    parser.addOptions({version, db, run_preset, set, screenshots, setup_screenshots, prepare_screenshots});
    parser.process(app);

    lorica::log::setup(false, lorica::default_data_dir() + "/lorica.log");
    lorica::app::MainWindow window;
    if (parser.isSet(db) && !window.open_database(parser.value(db))) return 2;
    window.show();

    // The screenshot modes: the editor set to --preset (default: the default preset) with --set overrides.
    auto load_screenshot_config = [&]() -> bool {
        std::vector<std::string> overrides;
        for (const QString& s : parser.values(set)) overrides.push_back(s.toStdString());
        try {
            window.editor()->set_document(lorica::assemble_config_document(
                {}, parser.isSet(run_preset) ? parser.value(run_preset).toStdString() : std::string("default"),
                overrides));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return false;
        }
        window.set_confirm_close(false);
        return true;
    };
    if (parser.isSet(setup_screenshots)) {
        if (!load_screenshot_config()) return 2;
        const QStringList files = window.editor()->save_step_screenshots(parser.value(setup_screenshots));
        std::printf("%lld set-up screenshots in %s\n", static_cast<long long>(files.size()),
                    parser.value(setup_screenshots).toStdString().c_str());
        return files.size() == lorica::app::kSetupSteps ? 0 : 1;
    }
    if (parser.isSet(prepare_screenshots)) {
        if (!load_screenshot_config()) return 2;
        lorica::app::PrepareDialog* dialog = window.prepare_data();
        if (!dialog) {
            std::fprintf(stderr, "error: cannot prepare: %s\n",
                         window.statusBar()->currentMessage().toStdString().c_str());
            return 2;
        }
        const QString dir = parser.value(prepare_screenshots);
        QDir().mkpath(dir);
        dialog->set_folder(QDir(dir).filePath(QStringLiteral("prepared")));
        auto shot_taken = std::make_shared<bool>(false);
        QObject::connect(dialog->worker(), &lorica::app::PrepareWorker::progress, dialog,
                         [dialog, dir, shot_taken](const lorica::app::PrepareUpdate& u) {
                             if (*shot_taken || u.done * 2 < u.total || u.done >= u.total) return;
                             *shot_taken = true;
                             QApplication::processEvents();
                             dialog->grab().save(QDir(dir).filePath(QStringLiteral("prepare_running.png")));
                         });
        QObject::connect(dialog, &lorica::app::PrepareDialog::ended, &window,
                         [&window, dialog, dir](const lorica::app::PrepareOutcome& o) {
                             QApplication::processEvents();
                             dialog->grab().save(QDir(dir).filePath(QStringLiteral("prepare_done.png")));
                             // The window with the Data set step's "More" group open: data.prepared set.
                             window.editor()->set_current_step(lorica::app::SetupStep::dataset);
                             for (auto* more : window.editor()->findChildren<QToolButton*>())
                                 if (more->isCheckable() && more->isVisible() && !more->isChecked()) more->click();
                             QApplication::processEvents();
                             window.grab().save(QDir(dir).filePath(QStringLiteral("prepare_main.png")));
                             std::printf("prepared: %s (%lld images); screenshots in %s\n",
                                         o.status == lorica::app::PrepareOutcome::Status::finished
                                             ? "finished"
                                             : o.message.toStdString().c_str(),
                                         static_cast<long long>(o.images), dir.toStdString().c_str());
                             QApplication::exit(o.status == lorica::app::PrepareOutcome::Status::finished ? 0 : 1);
                         });
        if (!dialog->start()) return 2;
        return app.exec();
    }
    if (parser.isSet(run_preset)) {
        std::vector<std::string> overrides;
        for (const QString& s : parser.values(set)) overrides.push_back(s.toStdString());
        try {
            window.editor()->set_document(
                lorica::assemble_config_document({}, parser.value(run_preset).toStdString(), overrides));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return 2;
        }
        if (!window.start_run()) {
            std::fprintf(stderr, "error: cannot start: %s\n", window.editor()->error_message().toStdString().c_str());
            return 2;
        }
        if (parser.isSet(screenshots)) {
            window.set_confirm_close(false);
            const QString dir = parser.value(screenshots);
            QObject::connect(window.session(), &lorica::app::EngineSession::experiment_finished, &window,
                             [&window, dir](lorica::RunStatus status) {
                                 auto shoot = [&window, dir, status] {
                                     QTimer::singleShot(500, &window, [&window, dir, status] {
                                         const QStringList files = window.save_screenshots(dir);
                                         std::printf("experiment %s; %lld screenshots in %s\n",
                                                     lorica::to_string(status), static_cast<long long>(files.size()),
                                                     dir.toStdString().c_str());
                                         window.close();
                                     });
                                 };
                                 // Compare the two newest runs of the database when there are two (read
                                 // off the GUI thread), then shoot.
                                 window.store_worker()->submit<lorica::RunPage>(
                                     lorica::app::StoreWorker::Lane::list_runs,
                                     [](const lorica::RunStore& store) {
                                         return store.list_run_page({}, {2, 0});
                                     },
                                     [&window, shoot](lorica::RunPage page, const QString&) {
                                         if (page.runs.size() < 2) return shoot();
                                         QObject::connect(
                                             &window, &lorica::app::MainWindow::runs_compared, &window,
                                             [shoot](int) { shoot(); }, Qt::SingleShotConnection);
                                         window.compare_runs({page.runs[1].id, page.runs[0].id});
                                     });
                             });
        }
    }
    return app.exec();
}
