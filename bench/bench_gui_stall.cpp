// bench_gui_stall: how long the GUI event loop stalls while a run trains and the plots update live.
//
// A QTimer probe fires every 5 ms on the GUI thread; each firing records its lateness (the gap to
// the previous firing minus 5 ms). Reference: the same probe on the idle window for 2 s, measured in
// the same process right before. Then the workbench starts an experiment (preset `smoke` by default,
// one LibTorch thread, the window's normal coalesced redraws) and the probe runs until it ends.
// Prints p50 / p99 / max lateness of both, their ratio, and the verdict against the 16 ms goal
// (one frame at 60 Hz).
//
// Database mode (--db PATH, e.g. the 10,000-run database `bench_store_scale --keep PATH` leaves): the
// window opens a copy of PATH and the bench drives what a researcher does on it, timing each action
// and the probe's lateness while it runs:
//   cold start   process start → the window shown with the run browser's first listing (goal ≤ 1 s)
//   filter       typing "l", "lo", "lor", "lori" into the method filter: each keystroke → its
//                listing on screen (goal ≤ 200 ms)
//   open         reopening 5 runs (each with the other seeds of its experiment) → drawn (≤ 200 ms)
//   compare      2 runs side by side in the Compare dock
//   export       the export dialog's run list, then an export of a run (runs grown by
//                bench_store_scale carry no checkpoints: the export ends with its error message)
// and the verdict: no probe firing later than 16 ms during any of them.
//
//   QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 ./build/bench/bench_gui_stall [preset] [key=value]...
//   QT_QPA_PLATFORM=offscreen ./build/bench/bench_gui_stall --db /tmp/lorica-10k.db

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>

#include "app/config_editor.h"
#include "app/engine_session.h"
#include "app/export_dialog.h"
#include "app/main_window.h"
#include "app/run_browser.h"
#include "app/store_worker.h"
#include "engine/config/presets.h"

namespace {

constexpr double kProbeMs = 5.0;
constexpr double kGoalMs = 16.0;

struct Stats {
    std::size_t samples = 0;
    double p50 = 0, p99 = 0, max = 0;
};

Stats stats_of(std::vector<double> lateness) {
    Stats s;
    s.samples = lateness.size();
    if (lateness.empty()) return s;
    std::sort(lateness.begin(), lateness.end());
    auto at = [&](double q) {
        return lateness[std::min(lateness.size() - 1, static_cast<std::size_t>(q * lateness.size()))];
    };
    s.p50 = at(0.50);
    s.p99 = at(0.99);
    s.max = lateness.back();
    return s;
}

// Runs the probe until `done()` returns true; returns the lateness of every firing, in ms.
template <typename Done>
std::vector<double> probe(QApplication& app, Done done) {
    std::vector<double> lateness;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(static_cast<int>(kProbeMs));
    QObject::connect(&timer, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        lateness.push_back(std::max(0.0, (now - last) / 1e6 - kProbeMs));
        last = now;
        if (done()) app.quit();
    });
    timer.start();
    app.exec();
    return lateness;
}

// Milliseconds since this process started (/proc/self/stat field 22, in clock ticks since boot).
double ms_since_process_start() {
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::vector<std::string> fields;
    std::string field;
    for (size_t i = close + 2; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == ' ') {
            fields.push_back(field);
            field.clear();
        } else {
            field += text[i];
        }
    }
    // fields[0] is field 3 (state): field 22 (starttime) is fields[19].
    if (fields.size() < 20) return -1;
    const double start_s = std::stod(fields[19]) / static_cast<double>(sysconf(_SC_CLK_TCK));
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return (now.tv_sec + now.tv_nsec / 1e9 - start_s) * 1000.0;
}

// The probe of database mode: runs all the time; each firing's lateness goes to the current phase.
class PhaseProbe {
public:
    PhaseProbe() {
        clock_.start();
        last_ = clock_.nsecsElapsed();
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(static_cast<int>(kProbeMs));
        QObject::connect(&timer_, &QTimer::timeout, [this] {
            const qint64 now = clock_.nsecsElapsed();
            lateness_[phase_].push_back(std::max(0.0, (now - last_) / 1e6 - kProbeMs));
            last_ = now;
        });
        timer_.start();
    }
    void set_phase(const std::string& phase) {
        phase_ = phase;
        last_ = clock_.nsecsElapsed();
    }
    std::vector<double> of(const std::string& phase) const {
        auto it = lateness_.find(phase);
        return it == lateness_.end() ? std::vector<double>{} : it->second;
    }

private:
    QElapsedTimer clock_;
    qint64 last_ = 0;
    QTimer timer_;
    std::string phase_ = "idle";
    std::map<std::string, std::vector<double>> lateness_;
};

// Runs the event loop until `done()`; returns the ms since `since` started, -1 after 60 s.
double wait_until(const std::function<bool()>& done, const QElapsedTimer& since) {
    QElapsedTimer limit;
    limit.start();
    while (!done()) {
        if (limit.elapsed() > 60000) return -1;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    return since.nsecsElapsed() / 1e6;
}

void settle(QApplication& app, int ms) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) app.processEvents(QEventLoop::AllEvents, 5);
}

struct Action {
    std::string phase;
    std::vector<double> ms;  // one per repetition
    double goal_ms = 0;      // 0 = none
};

int database_mode(QApplication& app, const std::string& source) {
    const double before_main = ms_since_process_start();
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());
    const QString db = dir.filePath("copy.db");
    std::error_code ec;
    std::filesystem::copy_file(source, db.toStdString(), ec);
    if (ec) {
        std::fprintf(stderr, "error: cannot copy %s: %s\n", source.c_str(), ec.message().c_str());
        return 2;
    }
    // The copy is not part of the cold start (a user's database is already on disk).
    const double copy_ms = ms_since_process_start() - before_main;

    PhaseProbe probe;
    probe.set_phase("cold start");
    QElapsedTimer action;
    action.start();
    lorica::app::MainWindow window;
    window.set_confirm_close(false);
    window.resize(1400, 900);
    int listings = 0;
    qint64 matching = 0;
    QObject::connect(window.browser(), &lorica::app::RunBrowser::listing_shown, [&](int, qint64 m) {
        ++listings;
        matching = m;
    });
    if (!window.open_database(db)) return 2;
    window.show();
    if (wait_until([&] { return listings >= 1; }, action) < 0) {
        std::fprintf(stderr, "error: no listing within 60 s\n");
        return 1;
    }
    const double cold_ms = ms_since_process_start() - copy_ms;
    settle(app, 300);

    std::vector<Action> actions;
    probe.set_phase("idle");
    settle(app, 1000);

    Action filter{"filter", {}, 200};
    probe.set_phase(filter.phase);
    for (const char* typed : {"l", "lo", "lor", "lori"}) {
        const int before = listings;
        action.restart();
        window.browser()->set_method_filter(QString::fromLatin1(typed));
        filter.ms.push_back(wait_until([&] { return listings > before; }, action));
        settle(app, 100);  // a researcher's next keystroke
    }
    const int lori_rows = window.browser()->row_count();
    actions.push_back(filter);

    int shown_runs = 0, compared = 0;
    QObject::connect(&window, &lorica::app::MainWindow::run_shown, [&](qint64, bool) { ++shown_runs; });
    QObject::connect(&window, &lorica::app::MainWindow::runs_compared, [&](int) { ++compared; });
    Action open{"open", {}, 200};
    probe.set_phase(open.phase);
    const int rows = window.browser()->row_count();
    for (int i = 0; i < 5 && i < rows; ++i) {
        const qint64 id = window.browser()->run_id_at(i * std::max(1, rows / 5));
        const int before = shown_runs;
        action.restart();
        window.open_run(id);
        open.ms.push_back(wait_until([&] { return shown_runs > before; }, action));
        settle(app, 100);
    }
    actions.push_back(open);

    Action compare{"compare", {}, 200};
    probe.set_phase(compare.phase);
    if (rows >= 2) {
        action.restart();
        window.compare_runs({window.browser()->run_id_at(0), window.browser()->run_id_at(1)});
        compare.ms.push_back(wait_until([&] { return compared > 0; }, action));
        settle(app, 100);
    }
    actions.push_back(compare);

    Action list{"export: run list", {}, 200};
    Action exporting{"export: write", {}, 0};
    QString export_outcome;
    probe.set_phase(list.phase);
    {
        lorica::app::ExportDialog dialog(window.store_worker(), rows > 0 ? window.browser()->run_id_at(0) : 0, &window);
        dialog.show();
        bool runs_listed = false, exported = false;
        QObject::connect(&dialog, &lorica::app::ExportDialog::runs_listed, [&](int) { runs_listed = true; });
        QObject::connect(
            &dialog, &lorica::app::ExportDialog::export_finished, [&](const QString&, const QString& error) {
                exported = true;
                export_outcome =
                    error.isEmpty() ? QStringLiteral("written") : QStringLiteral("error: ") + error.left(90);
            });
        action.restart();
        list.ms.push_back(wait_until([&] { return runs_listed; }, action));
        probe.set_phase(exporting.phase);
        dialog.set_output_folder(dir.filePath("export"));
        action.restart();
        dialog.start_export();
        exporting.ms.push_back(wait_until([&] { return exported; }, action));
        settle(app, 100);
    }
    actions.push_back(list);
    actions.push_back(exporting);
    probe.set_phase("done");

    std::printf("bench_gui_stall --db %s: %lld runs listed; probe every %.0f ms on the GUI thread\n", source.c_str(),
                static_cast<long long>(matching), kProbeMs);
    std::printf("  cold start (process start -> window with its first listing): %.0f ms  (goal 1000 ms) -> %s\n",
                cold_ms, cold_ms <= 1000 ? "PASS" : "FAIL");
    const Stats idle = stats_of(probe.of("idle"));
    const Stats cold = stats_of(probe.of("cold start"));
    std::printf("  %-20s %-28s %8s %8s %8s %8s\n", "action", "time ms (each)", "samples", "p50 ms", "p99 ms", "max ms");
    std::printf("  %-20s %-28s %8zu %8.2f %8.2f %8.2f\n", "idle (reference)", "-", idle.samples, idle.p50, idle.p99,
                idle.max);
    std::printf("  %-20s %-28.0f %8zu %8.2f %8.2f %8.2f  (includes building the window)\n", "cold start", cold_ms,
                cold.samples, cold.p50, cold.p99, cold.max);
    bool all_ok = cold_ms <= 1000;
    for (const Action& a : actions) {
        const Stats st = stats_of(probe.of(a.phase));
        std::string times;
        bool time_ok = true;
        for (double ms : a.ms) {
            times += (times.empty() ? "" : " ") + std::to_string(static_cast<long long>(ms + 0.5));
            if (ms < 0 || (a.goal_ms > 0 && ms > a.goal_ms)) time_ok = false;
        }
        const bool stall_ok = st.max <= kGoalMs;
        all_ok = all_ok && time_ok && stall_ok;
        std::printf("  %-20s %-28s %8zu %8.2f %8.2f %8.2f  %s%s\n", a.phase.c_str(), times.c_str(), st.samples, st.p50,
                    st.p99, st.max, a.goal_ms > 0 ? (time_ok ? "time ok" : "time MISSED") : "",
                    stall_ok ? ", no stall > 16 ms" : ", STALL > 16 ms");
    }
    std::printf("  filter \"lori\": %d runs shown; export: %s\n", lori_rows, export_outcome.toStdString().c_str());
    std::printf("  verdict: %s (times within their goals, no probe firing later than 16 ms while acting)\n",
                all_ok ? "PASS" : "FAIL");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("lorica-bench"));
    if (argc > 2 && std::string(argv[1]) == "--db") return database_mode(app, argv[2]);
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());  // leave the user's settings alone

    const std::string preset = argc > 1 ? argv[1] : "smoke";
    std::vector<std::string> overrides = {"threads=1"};
    for (int i = 2; i < argc; ++i) overrides.push_back(argv[i]);

    lorica::app::MainWindow window;
    window.set_confirm_close(false);
    window.resize(1400, 900);
    window.open_database(dir.filePath("bench.db"));
    window.editor()->set_document(lorica::assemble_config_document({}, preset, overrides));
    if (!window.editor()->valid()) {
        std::fprintf(stderr, "error: %s\n", window.editor()->error_message().toStdString().c_str());
        return 2;
    }
    window.show();

    QElapsedTimer idle_clock;
    idle_clock.start();
    const Stats idle = stats_of(probe(app, [&] { return idle_clock.elapsed() > 2000; }));

    QElapsedTimer run_clock;
    run_clock.start();
    if (!window.start_run()) return 2;
    const Stats run = stats_of(probe(app, [&] { return !window.session()->running(); }));
    const double seconds = run_clock.elapsed() / 1000.0;

    std::printf("bench_gui_stall: event-loop lateness of a %.0f ms QTimer probe (preset %s, %.1f s run, %d redraws)\n",
                kProbeMs, preset.c_str(), seconds, window.redraw_count());
    std::printf("  %-22s %8s %9s %9s %9s\n", "", "samples", "p50 ms", "p99 ms", "max ms");
    std::printf("  %-22s %8zu %9.2f %9.2f %9.2f\n", "idle window (reference)", idle.samples, idle.p50, idle.p99,
                idle.max);
    std::printf("  %-22s %8zu %9.2f %9.2f %9.2f\n", "during training", run.samples, run.p50, run.p99, run.max);
    std::printf("  p99 during training / idle p99: %.2fx;  p99 / 16 ms goal: %.2f  -> %s\n",
                idle.p99 > 0 ? run.p99 / idle.p99 : 0.0, run.p99 / kGoalMs, run.p99 <= kGoalMs ? "PASS" : "FAIL");
    return 0;
}
