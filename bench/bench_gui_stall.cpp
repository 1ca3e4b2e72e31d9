// bench_gui_stall: how long the GUI event loop stalls while a run trains and the plots update live.
//
// A QTimer probe fires every 5 ms on the GUI thread; each firing records its lateness (the gap to
// the previous firing minus 5 ms). Reference: the same probe on the idle window for 2 s, measured in
// the same process right before. Then the workbench starts an experiment (preset `smoke` by default,
// one LibTorch thread, the window's normal coalesced redraws) and the probe runs until it ends.
// Prints p50 / p99 / max lateness of both, their ratio, and the verdict against the 16 ms goal
// (one frame at 60 Hz).
//
//   QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 ./build/bench/bench_gui_stall [preset] [key=value]...

#include <algorithm>
#include <cstdio>
#include <vector>

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>

#include "app/config_editor.h"
#include "app/engine_session.h"
#include "app/main_window.h"
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
    auto at = [&](double q) { return lateness[std::min(lateness.size() - 1, static_cast<std::size_t>(q * lateness.size()))]; };
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

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("lorica-bench"));
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
    std::printf("  %-22s %8zu %9.2f %9.2f %9.2f\n", "idle window (reference)", idle.samples, idle.p50, idle.p99, idle.max);
    std::printf("  %-22s %8zu %9.2f %9.2f %9.2f\n", "during training", run.samples, run.p50, run.p99, run.max);
    std::printf("  p99 during training / idle p99: %.2fx;  p99 / 16 ms goal: %.2f  -> %s\n",
                idle.p99 > 0 ? run.p99 / idle.p99 : 0.0, run.p99 / kGoalMs, run.p99 <= kGoalMs ? "PASS" : "FAIL");
    return 0;
}
