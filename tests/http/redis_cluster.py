"""A private Redis Cluster for the black-box tests: 3 masters and 3 replicas (`redis-cli --cluster
create … --cluster-replicas 1`) on free loopback ports, AOF on, a short node timeout so that a
replica is promoted within seconds of its master's death. It has ExternalRedis's interface (start,
url, stop, cli_args) so MultiProcessCase can run its processes on it."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import _live_processes, free_port, wait_until

NODE_TIMEOUT_MS = 1000


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def cluster_port(taken):
    """A free port whose cluster bus port (+10000) is free and valid too, clear of `taken`."""
    while True:
        port = free_port()
        if port + 10000 <= 65535 and _bindable(port + 10000) and \
                not {port, port + 10000} & taken:
            taken.update({port, port + 10000})
            return port


def cli(port, *args, timeout=10):
    r = subprocess.run(["redis-cli", "-p", str(port), "--raw", *args], capture_output=True,
                       text=True, timeout=timeout)
    return r.stdout.strip()


class RedisCluster:
    MASTERS = 3

    def __init__(self, replicas=1):
        self.dir = tempfile.mkdtemp(prefix="joopang-http-cluster-")
        self.replicas = replicas
        taken = set()
        self.ports = [cluster_port(taken) for _ in range(self.MASTERS * (1 + replicas))]
        self.procs = {}

    def _start_node(self, port):
        node_dir = os.path.join(self.dir, str(port))
        os.makedirs(node_dir, exist_ok=True)
        with open(os.path.join(node_dir, "redis.log"), "ab") as log:
            p = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", node_dir,
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--appendonly", "yes",
                 "--appendfsync", "everysec", "--save", "", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT)
        _live_processes.append(p)
        self.procs[port] = p

    def start(self):
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            raise unittest.SkipTest("redis-server / redis-cli not installed")
        for port in self.ports:
            self._start_node(port)
        for port in self.ports:
            wait_until(lambda: cli(port, "PING") == "PONG", 10, message="node %d up" % port)
        r = subprocess.run(["redis-cli", "--cluster", "create",
                            *["127.0.0.1:%d" % p for p in self.ports],
                            "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("redis-cli --cluster create failed:\n%s%s" % (r.stdout, r.stderr))
        self.wait_healthy()
        return self

    def nodes(self, via=None):
        """[{id, port, role ('master'|'slave'), master_id, slots, failed}] as a live node sees them."""
        for port in ([via] if via else self.live_ports()):
            text = cli(port, "CLUSTER", "NODES")
            if text:
                break
        out = []
        for line in text.splitlines():
            f = line.split()
            flags = f[2].split(",")
            out.append({"id": f[0], "port": int(f[1].split("@")[0].split(":")[1]),
                        "role": "master" if "master" in flags else "slave",
                        "master_id": f[3], "failed": "fail" in flags or "fail?" in flags,
                        "slots": f[8:]})
        return out

    def live_ports(self):
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def wait_healthy(self, timeout=60):
        """Every live node says cluster_state:ok, every master has its replicas, linked up."""
        def healthy():
            for port in self.live_ports():
                if "cluster_state:ok" not in cli(port, "CLUSTER", "INFO"):
                    return False
            masters = [n for n in self.nodes() if n["role"] == "master" and n["slots"]
                       and not n["failed"]]
            if len(masters) != self.MASTERS:
                return False
            for port in self.live_ports():
                if "role:slave" in cli(port, "INFO", "replication") and \
                        "master_link_status:up" not in cli(port, "INFO", "replication"):
                    return False
            return True
        wait_until(healthy, timeout, interval=0.2, message="the cluster to be healthy")

    def master_of(self, key):
        """The port of the master serving `key`'s slot."""
        slot = int(cli(self.live_ports()[0], "CLUSTER", "KEYSLOT", key))
        for n in self.nodes():
            if n["role"] != "master" or n["failed"]:
                continue
            for r in n["slots"]:
                lo, _, hi = r.partition("-")
                if r[0] != "[" and int(lo) <= slot <= int(hi or lo):
                    return n["port"]
        raise AssertionError("no master serves slot %d" % slot)

    def replica_of(self, master_port):
        mid = next(n["id"] for n in self.nodes() if n["port"] == master_port)
        return next(n["port"] for n in self.nodes() if n["master_id"] == mid)

    def kill(self, port):
        """SIGKILL one node (as a crash would)."""
        p = self.procs[port]
        p.send_signal(signal.SIGKILL)
        p.wait(10)

    def pause(self, port):
        """SIGSTOP one node: it neither answers nor replicates until resume()."""
        self.procs[port].send_signal(signal.SIGSTOP)

    def resume(self, port):
        self.procs[port].send_signal(signal.SIGCONT)

    def restart(self, port):
        """Starts a killed node again on its data (it rejoins, as a replica if it was replaced)."""
        self._start_node(port)
        wait_until(lambda: cli(port, "PING") == "PONG", 10, message="node %d up" % port)

    def errorstat(self, name):
        """How many times the live nodes answered an error `name` (INFO errorstats)."""
        total = 0
        for port in self.live_ports():
            for line in cli(port, "INFO", "errorstats").splitlines():
                if line.startswith("errorstat_%s:" % name):
                    total += int(line.split("count=")[1].split(",")[0])
        return total

    @property
    def port(self):
        return self.ports[0]

    @property
    def url(self):
        masters = [n["port"] for n in self.nodes() if n["role"] == "master" and n["slots"]]
        return "redis-cluster://" + ",".join("127.0.0.1:%d" % p for p in masters)

    @property
    def cli_args(self):
        return ["-c", "-p", str(self.live_ports()[0])]

    def stop(self, keep_data=False):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if not keep_data:
            shutil.rmtree(self.dir, ignore_errors=True)
