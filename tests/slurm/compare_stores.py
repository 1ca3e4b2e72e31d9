#!/usr/bin/env python3
"""Compares what two Lorica results databases measured, run by run.

    compare_stores.py A.sqlite B.sqlite

Each database must hold one experiment. Its runs are matched by (variant, seed); for each pair the
run's place (run_index, variant_index, status) and every accuracy row (after_task, eval_task, step,
phase, head mode, correct, total) and every step loss must be equal. Prints the accuracy matrix
(class-IL, end of task) of each run and exits 0 when everything is equal, 1 otherwise.
"""
import sqlite3
import sys


def load(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    experiments = db.execute("SELECT id, name FROM experiments").fetchall()
    if len(experiments) != 1:
        sys.exit(f"{path}: expected one experiment, found {len(experiments)}")
    runs = {}
    for run_id, variant, seed, run_index, variant_index, status in db.execute(
            "SELECT id, variant, seed, run_index, variant_index, status FROM runs WHERE experiment_id = ?",
            (experiments[0][0],)):
        eval_rows = db.execute(
            "SELECT after_task, eval_task, step, phase, head_mode, correct, total FROM eval_rows WHERE run_id = ? "
            "ORDER BY after_task, eval_task, step, phase, head_mode", (run_id,)).fetchall()
        losses = db.execute("SELECT step, loss FROM step_metrics WHERE run_id = ? ORDER BY step", (run_id,)).fetchall()
        runs[(variant, seed)] = {"place": (run_index, variant_index, status), "eval": eval_rows, "losses": losses}
    return experiments[0][1], runs


def matrix(eval_rows):
    cells = {(a, e): 100.0 * c / t for a, e, _, phase, mode, c, t in eval_rows
             if phase == "end_of_task" and mode == "class_il" and a >= 0 and e >= 0 and t > 0}
    tasks = 1 + max((a for a, _ in cells), default=-1)
    return "\n".join("    " + " ".join(f"{cells[(t, j)]:6.2f}" for j in range(t + 1)) for t in range(tasks))


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    a_name, a = load(a_path)
    b_name, b = load(b_path)
    ok = a_name == b_name and a.keys() == b.keys() and len(a) > 0
    if not ok:
        print(f"experiments differ: {a_name} {sorted(a)} vs {b_name} {sorted(b)}")
    for key in sorted(a):
        if key not in b:
            continue
        same = a[key] == b[key] and a[key]["place"][2] == "finished" and len(a[key]["eval"]) > 0
        ok = ok and same
        print(f"{key[0] or '-'} seed {key[1]}: {'equal' if same else 'DIFFERENT'} "
              f"({len(a[key]['eval'])} accuracy rows, {len(a[key]['losses'])} losses, {a[key]['place'][2]})")
        print(matrix(a[key]["eval"]))
        if not same:
            for field in ("place", "eval", "losses"):
                if a[key][field] != b[key][field]:
                    print(f"  {field}: {str(a[key][field])[:300]}\n  vs     {str(b[key][field])[:300]}")
    print("the two stores hold the same runs" if ok else "the two stores differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
