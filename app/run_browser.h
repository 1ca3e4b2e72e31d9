#pragma once
// RunBrowser: the runs stored in the open results database, with filters (method, status, start
// date), reopening one run (with the other seeds of its experiment) and comparing several.
//
// Reads through RunStore (thread-safe, WAL: a run being written by this or another process shows up
// on refresh). Final accuracy is the class-IL Acc of each finished or interrupted run.

#include <memory>

#include <QList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableWidget;

namespace lorica {
class RunStore;
}

namespace lorica::app {

class RunBrowser : public QWidget {
    Q_OBJECT
public:
    explicit RunBrowser(QWidget* parent = nullptr);

    void set_store(std::shared_ptr<RunStore> store);
    void refresh();

    int row_count() const;
    qint64 run_id_at(int row) const;
    QList<qint64> selected_run_ids() const;
    void select_runs(const QList<qint64>& ids);
    void set_method_filter(const QString& text);
    void set_status_filter(const QString& status);  // "" = any

Q_SIGNALS:
    void open_requested(qint64 run_id);
    void compare_requested(const QList<qint64>& run_ids);

private:
    std::shared_ptr<RunStore> store_;
    QLineEdit* method_ = nullptr;
    QComboBox* status_ = nullptr;
    QLineEdit* since_ = nullptr;
    QLineEdit* until_ = nullptr;
    QTableWidget* table_ = nullptr;
};

}  // namespace lorica::app
