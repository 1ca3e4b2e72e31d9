#pragma once
// RunBrowser: the runs stored in the open results database, with filters (method, status, start
// date), reopening one run (with the other seeds of its experiment), comparing several, and resuming
// an interrupted, cancelled or failed run (context menu: Open, Compare, Resume run).
//
// A model/view over ONE SQL query (RunStore::list_run_page: matching runs with their final class-IL
// accuracy), run off the GUI thread by a StoreWorker (its list_runs lane), a page of kPageRows at a time (the next page
// when the table is scrolled to its end); the newest filter wins, so typing never freezes the window,
// whatever the size of the database. Sortable by any column (the query sorts: clicking a header lists
// again in that order).

#include <memory>
#include <optional>

#include <QList>
#include <QWidget>

#include "app/run_list_model.h"
#include "engine/store/run_records.h"

class QComboBox;
class QMenu;
class QLabel;
class QLineEdit;
class QTableView;

namespace lorica {
class RunStore;
}

namespace lorica::app {

class StoreWorker;

class RunBrowser : public QWidget {
    Q_OBJECT
public:
    static constexpr int kPageRows = 200;

    explicit RunBrowser(QWidget* parent = nullptr);
    ~RunBrowser() override;  // in the .cpp, where StoreWorker is complete

    void set_store(std::shared_ptr<RunStore> store);
    // Asks for a new listing with the current filters (shown when it arrives: `listing_shown`).
    void refresh();

    int row_count() const;  // rows shown now
    // Listings asked for whose answer has not arrived (or was dropped as superseded) yet.
    int listings_pending() const;
    qint64 run_id_at(int row) const;
    QList<qint64> selected_run_ids() const;
    void select_runs(const QList<qint64>& ids);
    void set_method_filter(const QString& text);
    void set_status_filter(std::optional<RunStatus> status);  // nullopt = any
    // The status of the run in `row` (nullopt for a row not shown); "Resume run" is offered when it
    // is_resumable (interrupted, cancelled or failed: engine/vocabulary/run_status.h).
    std::optional<RunStatus> status_at(int row) const;
    // The context menu of `row` (Open, Compare, Resume run), as the table shows it on a right click.
    QMenu* context_menu(int row);

Q_SIGNALS:
    void open_requested(qint64 run_id);
    void compare_requested(const QList<qint64>& run_ids);
    // "Resume run" on a run whose status is interrupted, cancelled or failed.
    void resume_requested(qint64 run_id);
    // The newest listing is on screen: `rows` runs shown, `matching` runs match the filters.
    void listing_shown(int rows, qint64 matching);

private:
    void show_listing(const RunPage& page, const QString& error);
    RunFilter current_filter() const;
    void request_page(int64_t offset);

    std::shared_ptr<RunStore> store_;
    std::unique_ptr<StoreWorker> worker_;  // lists off the GUI thread; the newest listing wins
    QLineEdit* method_ = nullptr;
    QComboBox* status_ = nullptr;
    QLineEdit* since_ = nullptr;
    QLineEdit* until_ = nullptr;
    QTableView* table_ = nullptr;
    RunListModel* model_ = nullptr;
    QLabel* count_ = nullptr;
    int64_t requested_offset_ = 0;  // offset of the newest listing asked for (0 = replace the rows)
};

}  // namespace lorica::app
