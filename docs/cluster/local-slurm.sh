#!/bin/bash
# Opt-in test bed: a one-node Slurm (Debian 12's slurm-wlm 22.05 + munge) on this machine, to
# run docs/cluster/*.sbatch without a cluster. Needs root and apt. Slurm is unpacked under
# $PREFIX, not installed, so `srun` stays off the default PATH (Lightning warns in every run
# that finds an unused `srun`). See docs/cluster.md, "Testing locally".
#   bash docs/cluster/local-slurm.sh          # install once, (re)start the daemons
#   source /opt/slurm-test/env.sh             # sbatch, squeue, scontrol, ... in this shell
#   bash docs/cluster/local-slurm.sh stop
set -euo pipefail
PREFIX=${PREFIX:-/opt/slurm-test}
R=$PREFIX/root/usr
LIB=$R/lib/x86_64-linux-gnu/slurm-wlm
export SLURM_CONF=$PREFIX/slurm.conf LD_LIBRARY_PATH=$LIB

stop() {
    for d in slurmd slurmctld; do
        if [[ -f $PREFIX/$d.pid ]]; then kill "$(cat "$PREFIX/$d.pid")" 2>/dev/null || true; rm -f "$PREFIX/$d.pid"; fi
    done
}
if [[ ${1:-} == stop ]]; then stop; exit 0; fi

if [[ ! -x $R/sbin/slurmd-wlm ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends munge libhwloc15 liblz4-1 libnuma1 libpam0g \
        libdbus-1-3 libjson-c5 liblua5.1-0 libyaml-0-2 libreadline8 >/dev/null
    mkdir -p "$PREFIX/debs"
    chown _apt "$PREFIX/debs" 2>/dev/null || true   # apt downloads as user _apt
    (cd "$PREFIX/debs" && apt-get download -qq slurmctld slurmd slurm-client slurm-wlm-basic-plugins)
    for deb in "$PREFIX"/debs/*.deb; do dpkg -x "$deb" "$PREFIX/root"; done
fi

# munge: one key (made by the package), one daemon
if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    su -s /bin/sh munge -c /usr/sbin/munged
fi

HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
mkdir -p "$PREFIX"/{state,spool,log}
cat > "$SLURM_CONF" <<CONF
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
PluginDir=$LIB
StateSaveLocation=$PREFIX/state
SlurmdSpoolDir=$PREFIX/spool
SlurmctldPidFile=$PREFIX/slurmctld.pid
SlurmdPidFile=$PREFIX/slurmd.pid
SlurmctldLogFile=$PREFIX/log/slurmctld.log
SlurmdLogFile=$PREFIX/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
DefMemPerCPU=$(( MEM / CPUS ))
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
cat > "$PREFIX/env.sh" <<ENV
export SLURM_CONF=$SLURM_CONF LD_LIBRARY_PATH=$LIB PATH=$R/bin:\$PATH
ENV

stop
sleep 1
"$R/sbin/slurmctld-wlm" -c -f "$SLURM_CONF"     # -c: forget the jobs of an earlier start
"$R/sbin/slurmd-wlm" -f "$SLURM_CONF" -d "$R/sbin/slurmstepd-wlm"
for _ in $(seq 30); do
    [[ $("$R/bin/sinfo" -h -o %T 2>/dev/null) == idle ]] && { "$R/bin/sinfo"; exit 0; }
    sleep 1
done
echo "slurmd did not come up; see $PREFIX/log/" >&2
exit 1
