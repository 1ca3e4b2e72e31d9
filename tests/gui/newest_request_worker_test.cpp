// NewestRequestWorker (app/newest_request_worker.h), the lanes behind SetupWorker and StoreWorker:
// stop_and_wait against a job caught between being chosen and starting, stale results dropped, the
// newest request of a lane winning, and a non-superseding lane running every job. Interleavings are
// forced with latches and atomic waits, never with sleeps.

#include <atomic>
#include <latch>
#include <thread>

#include <QSignalSpy>
#include <QtTest>

#include "app/newest_request_worker.h"

using lorica::app::NewestRequestWorker;

class NewestRequestWorkerTests : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stop_and_wait_returns_only_after_the_chosen_job_ended() {
        // The worker chooses job A (stale check passed) and is held there; another thread calls
        // stop_and_wait. A must not run after stop_and_wait returned: stop_and_wait waits for it.
        // (The old worker checked staleness, then raised its running flag: a stop in between saw no
        // job running and returned while A was about to start.)
        NewestRequestWorker worker({false, false}, QStringLiteral("test-lanes"));
        std::latch chosen(1);
        std::atomic<bool> first{true};
        worker.set_job_chosen_hook([&] {
            if (!first.exchange(false)) return;
            chosen.count_down();
            worker.stop_flag()->wait(false);  // held until stop_and_wait has begun
        });
        std::atomic<bool> a_ended{false}, b_ran{false};
        bool a_delivered = false;
        worker.submit_job<int>(
            0,
            [&] {
                a_ended = true;
                return 1;
            },
            [&](int, const QString&) { a_delivered = true; });
        worker.submit_job<int>(
            1,
            [&] {
                b_ran = true;
                return 2;
            },
            [](int, const QString&) {});
        QSignalSpy idle(&worker, &NewestRequestWorker::idle);
        std::atomic<bool> a_ended_when_stop_returned{false};
        std::thread stopper([&] {
            chosen.wait();
            worker.stop_and_wait();
            a_ended_when_stop_returned = a_ended.load();
        });
        QVERIFY(idle.wait(10000));
        stopper.join();
        QVERIFY2(a_ended_when_stop_returned, "stop_and_wait returned before the chosen job ran");
        QVERIFY2(!b_ran, "a job queued before stop_and_wait ran after it");
        QVERIFY2(!a_delivered, "the result of a job stopped in flight was delivered");
        QCOMPARE(worker.skipped(), 1);
        QCOMPARE(worker.pending(), 0);
    }

    void stop_and_wait_with_nothing_running_returns_and_later_jobs_run() {
        NewestRequestWorker worker({true}, QStringLiteral("test-lanes"));
        worker.stop_and_wait();
        QVERIFY(worker.stop_flag()->load());
        QList<int> delivered;
        QSignalSpy idle(&worker, &NewestRequestWorker::idle);
        worker.submit_job<int>(
            0, [] { return 7; }, [&](int v, const QString&) { delivered << v; });
        QVERIFY(!worker.stop_flag()->load());  // lowered by the submit
        QVERIFY(idle.wait(10000));
        QCOMPARE(delivered, QList<int>({7}));
    }

    void newest_request_of_a_lane_wins_and_every_export_runs() {
        // Lane 0 supersedes, lane 1 does not. Job 1 holds the worker until everything is queued.
        NewestRequestWorker worker({true, false}, QStringLiteral("test-lanes"));
        std::latch first_chosen(1), all_queued(1);
        std::atomic<bool> first{true};
        worker.set_job_chosen_hook([&] {
            if (first.exchange(false)) first_chosen.count_down();
        });
        QList<int> delivered, exports;
        QString error;
        worker.submit_job<int>(
            0,
            [&] {
                all_queued.wait();
                return 1;
            },
            [&](int v, const QString&) { delivered << v; });
        first_chosen.wait();  // job 1 runs (held) before the others arrive
        for (int i = 2; i <= 4; ++i)
            worker.submit_job<int>(
                0, [i] { return i; }, [&](int v, const QString&) { delivered << v; });
        for (int i = 10; i < 13; ++i)
            worker.submit_job<int>(
                1, [i] { return i; }, [&](int v, const QString&) { exports << v; });
        worker.submit_job<int>(
            0, []() -> int { throw std::runtime_error("run 7 does not exist"); },
            [&](int v, const QString& e) {
                delivered << v;
                error = e;
            });
        QCOMPARE(worker.latest_generation(0), quint64(5));
        QCOMPARE(worker.pending(), 8);
        QSignalSpy idle(&worker, &NewestRequestWorker::idle);
        all_queued.count_down();
        QVERIFY(idle.wait(10000));
        QCOMPARE(delivered, QList<int>({0}));  // only the newest (it threw: a default result and the message)
        QCOMPARE(error, QStringLiteral("run 7 does not exist"));
        QCOMPARE(exports, QList<int>({10, 11, 12}));
        QCOMPARE(worker.skipped(), 3);  // 2, 3, 4 were stale when taken off the queue
        QCOMPARE(worker.pending(), 0);
    }
};

QTEST_MAIN(NewestRequestWorkerTests)
#include "newest_request_worker_test.moc"
