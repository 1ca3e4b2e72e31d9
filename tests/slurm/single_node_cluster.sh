# A single-node Slurm cluster in a temporary directory, for tests (sourced by slurm_sweep_test.sh).
#
#   source tests/slurm/single_node_cluster.sh
#   cluster_start DIR      # munged, slurmctld, slurmd as root; exports SLURM_CONF; returns 77 with
#                          # CLUSTER_SKIP_REASON set when the cluster cannot start
#   cluster_stop           # stops the three daemons (idempotent; call it from a trap)
#
# Everything lives under DIR: the munge key, socket, pid, log and seed files; slurm.conf; the
# controller's state and the daemon's spool directories; every log. No systemd, no cgroups:
# ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, SelectType=select/cons_res on CPUs
# (SelectTypeParameters=CR_CPU). The node is this host with the CPUs and memory `slurmd -C` reports.
# Ports are picked free at start so two clusters (or a system Slurm) never collide.

CLUSTER_DIR=""
CLUSTER_SKIP_REASON=""

cluster__free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cluster__skip() {
    CLUSTER_SKIP_REASON="$1"
    echo "SKIP: $1" >&2
    return 77
}

cluster__pid() { [ -s "$1" ] && cat "$1"; }

cluster_start() {
    CLUSTER_DIR="$1"
    local d="$CLUSTER_DIR"
    mkdir -p "$d/munge" "$d/state" "$d/spool/$(hostname -s)" "$d/log" || return 1
    chmod 0700 "$d" "$d/munge"
    [ "$(id -u)" = 0 ] || { cluster__skip "not root (slurmd must run as root)"; return 77; }
    for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol python3; do
        command -v "$tool" >/dev/null 2>&1 || { cluster__skip "$tool not installed (scripts/setup.sh installs slurm-wlm and munge)"; return 77; }
    done

    # munge: a fresh key, socket and state in DIR.
    mungekey --create --keyfile="$d/munge/munge.key" --force >/dev/null 2>&1 ||
        { cluster__skip "mungekey could not create a key"; return 77; }
    chmod 0400 "$d/munge/munge.key"
    munged --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
        --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" --seed-file="$d/munge/munged.seed" \
        >"$d/log/munged.out" 2>&1 ||
        { cluster__skip "munged did not start: $(tail -n 3 "$d/log/munged.out" "$d/log/munged.log" 2>/dev/null | tr '\n' ' ')"; return 77; }

    local host node_line ctld_port d_port
    host=$(hostname -s)
    node_line=$(slurmd -C 2>/dev/null | head -n 1)
    [ -n "$node_line" ] || { cluster__skip "slurmd -C printed no node description"; return 77; }
    ctld_port=$(cluster__free_port)
    d_port=$(cluster__free_port)
    cat >"$d/slurm.conf" <<CONF
ClusterName=lorica-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_res
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
MaxArraySize=10001
$(echo "$node_line" | sed "s/^NodeName=[^ ]*/NodeName=$host NodeAddr=127.0.0.1/") State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$d/slurm.conf"

    slurmctld -f "$d/slurm.conf" -i >"$d/log/slurmctld.out" 2>&1 ||
        { cluster__skip "slurmctld did not start: $(tail -n 3 "$d/log/slurmctld.out" "$d/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"; return 77; }
    slurmd -f "$d/slurm.conf" -N "$host" >"$d/log/slurmd.out" 2>&1 ||
        { cluster__skip "slurmd did not start: $(tail -n 3 "$d/log/slurmd.out" "$d/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"; return 77; }

    # Wait (≤ 30 s) for the node to be idle.
    local i state=""
    for i in $(seq 1 60); do
        state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1)
        [ "$state" = idle ] && return 0
        sleep 0.5
    done
    cluster__skip "the node never became idle (state '$state'): $(tail -n 5 "$d/log/slurmctld.log" "$d/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
    return 77
}

cluster_stop() {
    [ -n "$CLUSTER_DIR" ] || return 0
    local d="$CLUSTER_DIR" pid f
    for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
        pid=$(cluster__pid "$f") || continue
        kill "$pid" 2>/dev/null || true
    done
    for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
        pid=$(cluster__pid "$f") || continue
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    done
    CLUSTER_DIR=""
}
