"""Several cluster nodes on one machine, for tests, benchmarks and the demo (root only).

Each simulated node is a Linux network namespace joined to the machine by a veth pair on a
bridge, with its own host name (UTS namespace) and its own ``/dev/shm`` (mount namespace).
Inside it run a Dask worker with the deisa plugin and that node's simulation ranks; the Dask
scheduler and the analytics run in the machine's own namespace. Traffic between nodes is
then real network traffic, counted by the veth pairs::

    with SimulatedNodes(4) as nodes:
        ranks = nodes.start_ranks("sim.py", 16)          # ranks 0-3 on node 0, 4-7 on node 1, ...
        d = Deisa(scheduler=nodes.scheduler_address)
        ...
        print(nodes.traffic())                           # bytes that left and entered each node

Addresses are link-local (169.254.x.y) and exist only inside the namespaces created here;
everything is torn down on exit, also when the body fails, and namespaces a killed run left
behind are removed at the next start.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

__all__ = ["SimulatedNodes", "unavailable"]

_PREFIX = "dsim"  # names of this module's namespaces, veths and bridge


def unavailable():
    """Why simulated nodes cannot run here (None if they can): root, ip and unshare are needed."""
    if os.geteuid() != 0:
        return "simulated nodes need root (network and mount namespaces)"
    for tool in ("ip", "unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"simulated nodes need the '{tool}' command (iproute2, util-linux)"
    probe = f"{_PREFIX}probe{os.getpid() % 100000}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def remove_leftovers():
    """Removes the namespaces, veths and bridges of earlier runs whose process is gone."""
    names = _ip("netns", "list", check=False).stdout.split()
    for owner in {n[len(_PREFIX):].split("n")[0] for n in names if n.startswith(_PREFIX) and "n" in n[len(_PREFIX):]}:
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            for n in names:
                if n.startswith(f"{_PREFIX}{owner}n"):
                    _ip("netns", "del", n, check=False)
            _ip("link", "del", f"{_PREFIX}{owner}br", check=False)


class SimulatedNodes:
    """``count`` simulated nodes (see the module's doc), each with ``workers_per_node`` Dask
    workers started with ``--preload deisa.distributed``.

    ``subnet`` is the first three bytes of the link-local network (the machine's side is .1,
    node i is .(10 + i)). ``env`` is added to every process's environment (the rendezvous
    directory goes in ``DEISA_RENDEZVOUS``: it defaults to ``.deisa`` in ``cwd``).
    """

    def __init__(self, count, *, workers_per_node=1, threads_per_worker=1, subnet="169.254.77", python=None,
                 cwd=None, env=None, shm_size="1g", timeout=60):
        if count < 1 or count > 200:
            raise ValueError(f"count must be between 1 and 200 simulated nodes, got {count}")
        self.count = count
        self.workers_per_node = workers_per_node
        self.threads_per_worker = threads_per_worker
        self.subnet = subnet
        self.python = python or sys.executable
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("DEISA_RENDEZVOUS", os.path.join(self.cwd, ".deisa"))
        self.shm_size = shm_size
        self.timeout = timeout
        self.tag = f"{_PREFIX}{os.getpid()}"
        self.bridge = f"{self.tag}br"
        self.hosts = [f"node{i}" for i in range(count)]
        self.scheduler_address = None
        self._procs = []       # every process started, killed at the end
        self._workers = {}     # node -> [Popen]
        self._holders = []     # per node: a process holding its namespaces, which the others join
        self._dir = None
        self._up = False

    # -- names -------------------------------------------------------------------------

    def namespace(self, node):
        return f"{self.tag}n{node}"

    def veth(self, node):
        """The machine's end of node ``node``'s veth pair (its counters are the node's traffic)."""
        return f"{self.tag}v{node}"

    def address(self, node):
        return f"{self.subnet}.{10 + node}"

    @property
    def gateway(self):
        return f"{self.subnet}.1"

    # -- life --------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        why = unavailable()
        if why:
            raise RuntimeError(why)
        remove_leftovers()
        self._dir = tempfile.mkdtemp(prefix="deisa-nodes-")
        self._up = True
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for i in range(self.count):
            ns, outside, inside = self.namespace(i), self.veth(i), f"{self.tag}i{i}"
            _ip("netns", "add", ns)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", ns)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            # Its own host name and /dev/shm, set up once by a process that holds them; every
            # process of the node joins its namespaces (nsenter).
            setup = (f"hostname {self.hosts[i]} && mount -t tmpfs -o size={self.shm_size},mode=1777 tmpfs /dev/shm "
                     "&& echo up && exec sleep infinity")
            holder = subprocess.Popen(["ip", "netns", "exec", ns, "unshare", "--uts", "--mount", "--propagation", "private",
                                       "sh", "-c", setup], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self._holders.append(holder)
            if holder.stdout.readline().strip() != "up":
                raise RuntimeError(f"cannot set up simulated node {i}: {holder.stderr.read().strip()}")
        scheduler_file = os.path.join(self._dir, "scheduler.json")
        self._procs.append(self._popen(None, [self.python, "-m", "distributed.cli.dask_scheduler", "--host", self.gateway,
                                              "--port", "0", "--scheduler-file", scheduler_file, "--no-dashboard"],
                                       "scheduler"))
        self.scheduler_address = self._wait_for_scheduler(scheduler_file)
        for i in range(self.count):
            for w in range(self.workers_per_node):
                self._workers.setdefault(i, []).append(self.run(
                    i, [self.python, "-m", "distributed.cli.dask_worker", self.scheduler_address, "--host", self.address(i),
                        "--nthreads", str(self.threads_per_worker), "--no-nanny", "--no-dashboard",
                        "--name", f"{self.hosts[i]}-w{w}", "--preload", "deisa.distributed",
                        "--local-directory", os.path.join(self._dir, f"w{i}-{w}")],
                    log=f"worker{i}-{w}"))
        self._wait_for_workers(self.count * self.workers_per_node)
        return self

    def _popen(self, node, argv, log, **popen):
        out = open(os.path.join(self._dir, f"{log}.log"), "w") if log else None
        popen.setdefault("stdout", out or subprocess.DEVNULL)
        popen.setdefault("stderr", subprocess.STDOUT if out else subprocess.DEVNULL)
        popen.setdefault("cwd", self.cwd)
        env = dict(self.env, **popen.pop("env", {}))
        if node is not None:
            argv = self.command(node, argv, popen["cwd"])
        p = subprocess.Popen(argv, env=env, **popen)
        if out:
            out.close()
        return p

    def command(self, node, argv, cwd=None):
        """The command line that runs ``argv`` on node ``node`` (inside its namespaces), in
        ``cwd`` (default: the nodes' directory): for launchers of one's own."""
        if not 0 <= node < self.count:
            raise ValueError(f"node {node} is not one of the {self.count} simulated nodes")
        return ["nsenter", "-t", str(self._holders[node].pid), "--net", "--uts", "--mount", f"--wd={cwd or self.cwd}",
                *[str(a) for a in argv]]

    def run(self, node, argv, log=None, **popen):
        """Starts ``argv`` on node ``node`` (inside its namespaces); returns the Popen."""
        if not 0 <= node < self.count:
            raise ValueError(f"node {node} is not one of the {self.count} simulated nodes")
        p = self._popen(node, [str(a) for a in argv], log, **popen)
        self._procs.append(p)
        return p

    def start_ranks(self, program, size, args=(), ranks_per_node=None, **popen):
        """Starts the ranks of a Python simulation (``python program RANK SIZE *args``, as
        :func:`deisa.testing.start_ranks`), ``ranks_per_node`` consecutive ranks per node
        (default: evenly spread)."""
        per = ranks_per_node or -(-size // self.count)
        return [self.run(r // per, [self.python, program, r, size, *args], **popen) for r in range(size)]

    def mpirun(self, argv, np, ranks_per_node=None, mpirun="mpirun", **popen):
        """Starts ``mpirun -np np argv`` across the nodes (``ranks_per_node`` per node, default
        evenly spread): Open MPI starts its daemons on the nodes through an ``ssh`` stand-in
        that enters each node's namespaces, and the ranks talk over the nodes' network.
        Returns the Popen of mpirun (run on the machine's side)."""
        per = ranks_per_node or -(-np // self.count)
        agent = os.path.join(self._dir, "enter-node")
        with open(agent, "w") as f:
            f.write("#!/bin/sh\n# ssh for Open MPI: skip its options, enter the node's namespaces, run the command\n"
                    "while [ \"${1#-}\" != \"$1\" ]; do shift; done\nhost=$1; shift\ncase $host in\n"
                    + "".join(f"  {h}) pid={self._holders[i].pid} ;;\n" for i, h in enumerate(self.hosts))
                    + "  *) echo \"enter-node: unknown node $host\" >&2; exit 1 ;;\nesac\n"
                    "exec nsenter -t $pid --net --uts --mount sh -c \"$*\"\n")
        os.chmod(agent, 0o755)
        hosts = ",".join(f"{h}:{per}" for h in self.hosts[:-(-np // per)])
        net = f"{self.subnet}.0/24"
        env = dict(popen.pop("env", {}), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        cmd = [mpirun, "--oversubscribe", "-np", str(np), "--host", hosts, "--mca", "plm_rsh_agent", agent,
               "--mca", "routed", "direct", "--mca", "plm_rsh_no_tree_spawn", "1",
               "--mca", "btl", "tcp,self,vader", "--mca", "btl_tcp_if_include", net, "--mca", "oob_tcp_if_include", net,
               *[str(a) for a in argv]]
        p = self._popen(None, cmd, popen.pop("log", None), env=env, **popen)
        self._procs.append(p)
        return p

    def node_of_host(self, host):
        return self.hosts.index(host)

    def worker_processes(self, node):
        return list(self._workers.get(node, []))

    def kill_node(self, node):
        """Kills every process of node ``node`` (its workers and ranks), as a node crash would."""
        for p in self._procs:
            if p.poll() is None and self._on_node(p.pid, node):
                p.send_signal(signal.SIGKILL)

    def _on_node(self, pid, node):
        try:
            return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/var/run/netns/{self.namespace(node)}").st_ino
        except OSError:
            return False

    def traffic(self):
        """{node: (bytes that left the node, bytes that entered it)} since its start, from the
        counters of its veth pair (every byte to another node, the scheduler or the analytics)."""
        out = {}
        for i in range(self.count):
            base = f"/sys/class/net/{self.veth(i)}/statistics"
            with open(f"{base}/rx_bytes") as rx, open(f"{base}/tx_bytes") as tx:
                out[i] = (int(rx.read()), int(tx.read()))
        return out

    def _wait_for_scheduler(self, path):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    return json.load(f)["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        raise TimeoutError(f"the Dask scheduler did not start within {self.timeout} s (log: {self._dir}/scheduler.log)")

    def _wait_for_workers(self, n):
        from distributed import Client

        with Client(self.scheduler_address, timeout=self.timeout) as c:
            c.wait_for_workers(n, timeout=self.timeout)

    def logs(self):
        """The text of every log of this run (scheduler and workers), for a failing test's message."""
        if not self._dir:
            return ""
        parts = []
        for name in sorted(os.listdir(self._dir)):
            if name.endswith(".log"):
                with open(os.path.join(self._dir, name), errors="replace") as f:
                    parts.append(f"--- {name}\n{f.read()[-4000:]}")
        return "\n".join(parts)

    def close(self):
        """Kills every process started here and removes the namespaces, veths and bridge."""
        for p in self._procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in self._procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._procs.clear()
        for h in self._holders:
            h.kill()
            h.wait()
        self._holders.clear()
        if self._up:
            for i in range(self.count):
                _ip("netns", "del", self.namespace(i), check=False)
                _ip("link", "del", self.veth(i), check=False)
            _ip("link", "del", self.bridge, check=False)
            self._up = False
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def main(argv=None):
    """``python -m deisa.simulated_nodes --nodes N --np P --analytics "CMD" -- SIMULATION...``:
    runs an MPI simulation across N simulated nodes (mpirun) and its analytics on the machine's
    side, with ``DEISA_SCHEDULER`` set to the nodes' Dask scheduler; exits with the first
    failure's status."""
    import argparse
    import shlex

    ap = argparse.ArgumentParser(prog="python -m deisa.simulated_nodes", description=main.__doc__)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--np", type=int, default=4, help="MPI ranks, spread evenly over the nodes")
    ap.add_argument("--analytics", required=True, help="the analytics' command line (run on the machine's side)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("simulation", nargs=argparse.REMAINDER, help="-- then the simulation's command line")
    args = ap.parse_args(argv)
    simulation = args.simulation[1:] if args.simulation[:1] == ["--"] else args.simulation
    if not simulation:
        ap.error("the simulation's command line is missing (after --)")
    why = unavailable()
    if why:
        print(f"simulated nodes: {why}", file=sys.stderr)
        return 2
    with SimulatedNodes(args.nodes) as nodes:
        print(f"simulated nodes: {', '.join(nodes.hosts)} up, Dask scheduler {nodes.scheduler_address}", flush=True)
        analytics = subprocess.Popen(shlex.split(args.analytics), env=dict(nodes.env, DEISA_SCHEDULER=nodes.scheduler_address))
        sim = nodes.mpirun(simulation, args.np, stdout=None, stderr=None)
        deadline = time.monotonic() + args.timeout
        status = None
        while status is None and time.monotonic() < deadline:
            for p in (sim, analytics):
                if p.poll() not in (None, 0):
                    status = p.returncode
            if sim.poll() == 0 and analytics.poll() == 0:
                status = 0
            time.sleep(0.1)
        for p in (sim, analytics):
            if p.poll() is None:
                p.kill()
                p.wait()
        return 124 if status is None else status


if __name__ == "__main__":
    sys.exit(main())
