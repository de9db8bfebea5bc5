#!/usr/bin/env python3
"""Sends the same request sequences to several pvbench agents on copies of one fake
kernel tree, and compares what they say and what they leave on the tree.

    agent/conformance/conformance.py --agent swift=.build/debug/pvbench-testing \
        --agent c=.build-agents/x86_64/pvbench-agent-testing \
        --agent ppc64le='qemu-ppc64le-static .build-agents/ppc64le/pvbench-agent-testing' \
        --out agent/conformance/transcripts

Each agent's transcript (requests, replies, events, and after every request the files it
changed under the root, journals included) is written with times, pids and the root path
masked; the first agent is the reference, and every other one must match it line for
line. Exit status 1 when any differs. The fake tree follows
Tests/PVBenchTests/Support/FakeHostTree.swift.
"""
import argparse
import difflib
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# ---- the fake host tree (FakeHostTree.swift) ----


def cpulist(cpus):
    cpus = sorted(set(cpus))
    parts, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(parts)


def build_tree(root, cores=4, threads=2, paravirt=True, paravirt_writable=True, vp_hint=False,
               cgroup="v2", steal_governor=False, entitled=None, release="6.18.0-pvtest"):
    def write(path, text):
        full = root + path
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def read(path):
        try:
            with open(root + path) as f:
                return f.read()
        except OSError:
            return ""

    count = cores * threads
    every = cpulist(range(count))
    cpu = "/sys/devices/system/cpu"
    write("/proc/sys/kernel/osrelease", release + "\n")
    write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda quiet\n")
    stat = "cpu  100 0 100 1000 0 0 0 0 0 0\n"
    for i in range(count):
        stat += f"cpu{i} 10 0 10 100 0 0 0 {i} 0 0\n"
    write("/proc/stat", stat + "intr 0\nctxt 0\n")
    for name in ("online", "present", "possible"):
        write(f"{cpu}/{name}", every + "\n")
    for i in range(count):
        core = i // threads
        write(f"{cpu}/cpu{i}/topology/thread_siblings_list",
              cpulist(range(core * threads, (core + 1) * threads)) + "\n")
        write(f"{cpu}/cpu{i}/topology/core_id", f"{core}\n")
        if i > 0:
            write(f"{cpu}/cpu{i}/online", "1\n")
    if paravirt:
        write(f"{cpu}/paravirt", "\n")
        os.chmod(root + f"{cpu}/paravirt", 0o644 if paravirt_writable else 0o444)
    if vp_hint:
        write("/sys/kernel/debug/powerpc/vp_manual_hint", f"{count}\n")
    if steal_governor:
        write(f"/lib/modules/{release}/extra/steal_governor.ko", "")
    if entitled is not None:
        write("/proc/powerpc/lparcfg",
              f"lparcfg 1.9\npartition_id=1\npartition_entitled_capacity={entitled * 100}\n")
    write("/dev/kmsg", "")
    os.makedirs(root + "/sys/module", exist_ok=True)
    tasks = [(1, "/sbin/init\0", False, "/init.scope"), (2, "", True, "/"),
             (300, "sshd\0", False, "/system.slice/ssh.service"), (400, "bash\0", False, "/user.slice")]
    cg = "/sys/fs/cgroup"
    if cgroup == "v2":
        write(f"{cg}/cgroup.controllers", "cpuset cpu io memory pids\n")
        write(f"{cg}/cgroup.subtree_control", "cpu memory pids\n")
        write(f"{cg}/cpuset.cpus.effective", every + "\n")
        write(f"{cg}/cpuset.mems.effective", "0\n")
        write(f"{cg}/cgroup.procs", "")
        for group in sorted({t[3] for t in tasks}):
            if group != "/":
                write(f"{cg}{group}/cgroup.procs", "")
                write(f"{cg}{group}/cgroup.controllers", "cpu memory pids\n")
    elif cgroup == "v1":
        write(f"{cg}/cpuset/cpuset.cpus", every + "\n")
        write(f"{cg}/cpuset/cpuset.effective_cpus", every + "\n")
        write(f"{cg}/cpuset/cpuset.mems", "0\n")
        write(f"{cg}/cpuset/cpuset.effective_mems", "0\n")
        write(f"{cg}/cpuset/cgroup.procs", "")
        write(f"{cg}/cpuset/tasks", "")
    for pid, cmdline, kthread, group in tasks:
        write(f"/proc/{pid}/cmdline", cmdline)
        flags = 0x00208040 if kthread else 0x00400100
        write(f"/proc/{pid}/stat",
              f"{pid} ({'kthreadd' if kthread else 'some task'}) S 0 1 1 0 -1 {flags} 0 0\n")
        inside = "/" if cgroup == "v1" else group
        write(f"/proc/{pid}/cgroup", f"5:cpuset:{inside}\n" if cgroup == "v1" else f"0::{inside}\n")
        if cgroup != "none":
            hierarchy = f"{cg}/cpuset" if cgroup == "v1" else cg
            procs = f"{hierarchy}{'' if inside == '/' else inside}/cgroup.procs"
            pids = sorted([int(x) for x in read(procs).split()] + [pid])
            write(procs, "".join(f"{p}\n" for p in pids))
            if cgroup == "v1":
                write(os.path.dirname(procs) + "/tasks", "".join(f"{p}\n" for p in pids))


def snapshot(root):
    files = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            full = os.path.join(folder, name)
            path = "/" + os.path.relpath(full, root)
            if os.path.isdir(full):
                files[path] = "<dir>"
            else:
                mode = oct(os.stat(full).st_mode & 0o777)
                with open(full, errors="replace") as f:
                    files[path] = f"{f.read()!r} {mode}"
    return files


# ---- masking ----

OPTIONS_ERROR = '"options" is not valid: '
TIME_KEYS = {"monotonic_ns", "realtime_ns", "startMonotonicNanoseconds", "endMonotonicNanoseconds"}


class Masker:
    def __init__(self, root):
        self.root = root
        self.pids = set()

    def text(self, s):
        s = s.replace(self.root, "<ROOT>")
        for pid in sorted(self.pids, key=lambda p: -len(p)):
            s = re.sub(rf"(?<![0-9]){pid}(?![0-9])", "<PID>", s)
        return s

    def value(self, v, key=None):
        if isinstance(v, dict):
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if key and (key.endswith("_ms") and key not in ("interval_ms",) or key in TIME_KEYS):
                return "<time>"
            if key == "pid":
                return "<PID>"
        return v

    def line(self, raw):
        try:
            data = json.loads(raw)
        except ValueError:
            return "NOT JSON: " + self.text(raw)
        # Known difference (README.md): the Swift agent words an options object that does not
        # decode with Foundation's DecodingError text; the code (bad-params) is compared.
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and str(error.get("message", "")).startswith(OPTIONS_ERROR):
            error["message"] = OPTIONS_ERROR + "<decoder message>"
        if isinstance(data, dict) and data.get("event") == "hello":
            self.pids.add(str(data.get("pid")))
        return json.dumps(self.value(data), sort_keys=True, ensure_ascii=False)


# ---- one agent run ----


class Agent:
    def __init__(self, command, root, env=None):
        argv = shlex.split(command) + ["agent", "--stdio", "--root", root]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        self.buffer = b""

    def read_line(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace")

    def send(self, raw):
        try:
            self.process.stdin.write(raw.encode() + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass


def run_scenario(command, scenario, tree_options, workdir):
    root = tempfile.mkdtemp(prefix="pva-conf-", dir=workdir)
    build_tree(root, **tree_options)
    masker = Masker(root)
    out = []
    before = snapshot(root)

    def record_changes():
        nonlocal before
        after = snapshot(root)
        for path in sorted(set(before) | set(after)):
            if before.get(path) != after.get(path):
                old = before.get(path, "missing")
                new = after.get(path, "missing")
                out.append(f"  ~ {masker.text(path)}: {masker.text(old)} -> {masker.text(new)}")
        before = after

    def start(env_extra=None):
        env = dict(os.environ)
        env.update(env_extra or {})
        agent = Agent(command, root, env)
        hello = agent.read_line(60)
        out.append("<< " + (masker.line(hello) if hello else "(no hello)"))
        record_changes()
        return agent

    agent = start()
    for step in scenario:
        kind = step[0]
        if kind == "req":
            raw = step[1]
            out.append(">> " + raw)
            agent.send(raw)
            wait_events = step[2] if len(step) > 2 else []
            seen = set()
            events = []  # asynchronous: printed after the reply, whenever they came
            while True:
                line = agent.read_line(60)
                if line is None:
                    out.append("<< (no reply: the agent closed its output)")
                    break
                data = json.loads(line) if line.startswith("{") else {}
                if "event" in data:
                    if data["event"] in wait_events and data["event"] not in seen:
                        seen.add(data["event"])
                        events.append("<< " + masker.line(line))
                    continue
                out.append("<< " + masker.line(line))
                break
            out += events
            # Events the step waits for after its reply (the first of each name).
            for name in wait_events:
                if name in seen:
                    continue
                deadline = time.time() + 10
                while time.time() < deadline:
                    line = agent.read_line(deadline - time.time())
                    if line is None:
                        break
                    if f'"event":"{name}"' in line:
                        out.append("<< " + masker.line(line))
                        break
            record_changes()
        elif kind == "silent":  # a line the agent must not answer
            out.append(">> " + step[1])
            agent.send(step[1])
            line = agent.read_line(1)
            while line is not None and '"event":' in line:
                line = agent.read_line(1)
            out.append("<< " + (masker.line(line) if line else "(nothing, as expected)"))
        elif kind == "set":  # change a file of the tree behind the agent's back
            with open(root + step[1], "w") as f:
                f.write(step[2])
            out.append(f"## set {step[1]} to {step[2]!r}")
            record_changes()
        elif kind == "chmod":
            os.chmod(root + step[1], step[2])
            out.append(f"## chmod {oct(step[2])} {step[1]}")
        elif kind == "append":  # append text to a file of the tree (the fake /dev/kmsg)
            with open(root + step[1], "a") as f:
                f.write(step[2])
                f.flush()
            out.append(f"## appended to {step[1]}")
        elif kind == "eof":
            agent.process.stdin.close()
            rest = []
            while True:
                line = agent.read_line(60)
                if line is None:
                    break
                if '"event":"samples"' not in line:
                    rest.append(masker.line(line))
            status = agent.process.wait(60)
            out.append(f"## stdin closed; exit status {status}")
            out += ["<< " + r for r in rest]
            record_changes()
        elif kind == "signal":
            agent.process.send_signal(step[1])
            status = agent.process.wait(60)
            out.append(f"## signal {step[1]}; exit status {status}")
            record_changes()
        elif kind == "restart":  # a new agent on the same tree (after a crash)
            if agent.process.poll() is None:
                agent.process.stdin.close()
                agent.process.wait(60)
            out.append("## new agent" + (f" with {step[1]}" if len(step) > 1 and step[1] else ""))
            agent = start(step[1] if len(step) > 1 else None)
        elif kind == "wait":  # until the agent dies (the crash injector)
            status = agent.process.wait(60)
            out.append(f"## agent ended; exit status {status}")
            record_changes()
    if agent.process.poll() is None:
        agent.process.kill()
        agent.process.wait()
    shutil.rmtree(root, ignore_errors=True)
    return out


# ---- the scenarios ----

def req(i, op, params=None, events=()):
    body = {"id": i, "op": op}
    if params is not None:
        body["params"] = params
    return ("req", json.dumps(body, separators=(",", ":")), list(events))


def raw(text, events=()):
    return ("req", text, list(events))


HELLO = req(1, "hello", {"protocol": "1.0", "version": "0.1.0"})

SCENARIOS = {
    "protocol": ({}, [
        req(1, "ping"),
        raw("this is not json"),
        raw('{"op":"ping"}'),
        raw('{"id":1.5,"op":"ping"}'),
        raw('[1,2]'),
        raw('{"id":"s1"}'),
        raw('{"id":2,"op":"ping","params":[1]}'),
        raw('{"id":3,"op":"nonsense"}'),
        raw('{"id":4,"op":"hello"}'),
        raw('{"id":5,"op":"hello","params":{"protocol":"2.0"}}'),
        raw('{"id":6,"op":"hello","params":{"protocol":"x"}}'),
        HELLO,
        req(7, "ping"),
        raw('{"id":"text-id","op":"ping","params":{}}'),
        raw('{"id":8,"op":"ping","params":{"a":"\\u00e9\\n\\"q\\"\\ud83d\\ude00"}}'),
        raw('   {"id":9,"op":"clock"}   '),
        ("silent", ""),
        ("silent", "   "),
        req(10, "facts"),
        req(11, "sample.start", {"interval_ms": 5}),
        req(12, "sample.start", {"interval_ms": 3600001}),
        req(13, "sample.start", {"interval_ms": 20}, events=["samples"]),
        req(14, "sample.stop"),
        req(15, "sample.stop"),
        req(16, "kmsg.watch", {"path": "/no/such/kmsg"}),
        req(17, "kmsg.watch"),
        ("append", "/dev/kmsg", "4,100,5000,-;WARNING: CPU: 1 PID: 7 at kernel/sched/core.c:42\n"),
        req(18, "ping", events=["kernel-warning"]),
        req(19, "workload.start"),
        req(20, "stress.start"),
        req(21, "workload.stop"),
        req(22, "stress.stop"),
        req(23, "mode.verify"),
        req(24, "mode.restore"),
        req(25, "shutdown"),
    ]),
    "edges": ({}, [
        HELLO,
        raw('{"id":2.0,"op":"ping"}'),
        raw('{"id":1e2,"op":"ping"}'),
        raw('{"id":-9223372036854775808,"op":"ping"}'),
        raw('{"id":3,"op":"ping","op":"clock"}'),
        raw('{"id":true,"op":"ping"}'),
        raw('{"id":null,"op":"ping"}'),
        raw('{"id":4,"op":5}'),
        raw('{"id":5,"op":"ping"} trailing'),
        raw('{"id":6,"op":"ping","params":null}'),
        raw('{"id":7,"op":"ping","x":[1,2,{"y":[true,false,null,-0.5,1E-7]}]}'),
        raw('{"id":"' + "\u00e9" * 90 + '","op":"nonsense"}'),
        raw('{"broken": "' + "x" * 100),
        raw('{"id":8,"op":"ping","s":"\\ud800"}'),
        raw('{"id":9,"op":"hello","params":{"protocol":"1.7"}}'),
        raw('{"id":10,"op":"hello","params":{"protocol":"1"}}'),
        raw('{"id":11,"op":"hello","params":{"protocol":1}}'),
        req(12, "sample.start", {"interval_ms": "fast"}, events=["samples"]),
        req(13, "sample.start", {"interval_ms": 10.0}, events=["samples"]),
        req(14, "workload.start", {"options": {}}),
        req(15, "workload.start", {"options": {"messageThreads": 1}}),
        req(16, "workload.start", {"options": {
            "messageThreads": 1, "runtimeSeconds": 1, "warmupSeconds": 0, "intervalSeconds": 1,
            "sleepMicroseconds": 100, "operations": 5, "cacheFootprintKilobytes": 256, "locking": True},
            "stream_interval_ms": 1}),
        req(17, "stress.start", {"options": {"busyNanoseconds": 1}}),
        req(18, "stress.start", {"options": {"busyNanoseconds": 1000000, "idleNanoseconds": 1000000,
                                             "engine": "turbo", "stressNGControl": "restart"}}),
        ("signal", signal.SIGHUP),
    ]),
    "verify-failed": ({"entitled": 2, "steal_governor": True}, [
        HELLO,
        req(2, "mode.apply", {"mode": "hotplug", "cpus": "6-7", "host": "h"}),
        ("set", "/sys/devices/system/cpu/online", "0-6\n"),
        req(3, "mode.verify"),
        req(4, "mode.apply", {"mode": "paravirt", "cpus": "5-7", "host": "h"}),
        ("set", "/sys/devices/system/cpu/paravirt", "1\n"),
        req(5, "mode.verify"),
        ("set", "/sys/devices/system/cpu/paravirt", "5-7\n"),
        req(6, "mode.apply", {"mode": "cpuset", "cpus": "4-7", "host": "h"}),
        ("set", "/proc/400/cgroup", "0::/user.slice\n"),
        req(7, "mode.verify"),
        ("set", "/sys/fs/cgroup/init.scope/cgroup.procs", "1\n"),
        req(8, "mode.restore"),
        req(9, "mode.verify"),
        req(10, "mode.apply", {"mode": "hotplug", "cpus": "7", "host": "h"}),
        req(11, "mode.restore"),
        ("eof",),
    ]),
    "restore-problems": ({}, [
        HELLO,
        req(2, "mode.apply", {"mode": "paravirt", "cpus": "6-7", "host": "h"}),
        ("chmod", "/sys/devices/system/cpu/paravirt", 0o444),
        req(3, "mode.restore"),
        req(4, "mode.verify"),
        req(5, "mode.apply", {"mode": "hotplug", "cpus": "7", "host": "h"}),
        req(6, "shutdown"),
        ("chmod", "/sys/devices/system/cpu/paravirt", 0o644),
        req(7, "mode.apply", {"mode": "hotplug", "cpus": "7", "host": "h"}),
        req(8, "mode.verify"),
        req(9, "shutdown"),
    ]),
    "cpuset-v1-steps": ({"cgroup": "v1", "entitled": 1}, [
        HELLO,
        req(2, "mode.apply", {"mode": "cpuset", "cpus": "non-entitled", "host": "h", "evacuation": True,
                              "evacuation_window_ms": 10}),
        req(3, "mode.apply", {"mode": "cpuset", "cpus": "4-7", "host": "h", "incremental": True,
                              "evacuation": True}),
        req(4, "mode.apply", {"mode": "cpuset", "cpus": "2-7", "host": "h", "incremental": True,
                              "evacuation": True, "evacuation_window_ms": 10}),
        req(5, "mode.verify"),
        req(6, "mode.apply", {"mode": "cpuset", "cpus": "0-7", "host": "h", "incremental": True}),
        req(7, "mode.apply", {"mode": "hotplug", "cpus": "3", "host": "h", "incremental": True}),
        req(8, "mode.apply", {"mode": "paravirt", "cpus": "3", "host": "h", "interface": "sysfs"}),
        req(9, "shutdown"),
    ]),
    "facts-lpar": ({"cores": 6, "threads": 4, "entitled": 3, "vp_hint": True, "paravirt": False,
                    "steal_governor": True, "cgroup": "v1"}, [HELLO, req(2, "facts")]),
    "facts-bare": ({"cores": 1, "threads": 1, "paravirt": True, "paravirt_writable": False,
                    "cgroup": "none"}, [HELLO, req(2, "facts")]),
    "hotplug": ({"entitled": 2}, [
        HELLO,
        req(2, "mode.apply", {"mode": "hotplug", "cpus": "non-entitled", "host": "lpar1"}),
        req(3, "mode.verify"),
        req(4, "mode.apply", {"mode": "hotplug", "cpus": "6-7", "host": "lpar1", "incremental": True}),
        req(5, "mode.apply", {"mode": "hotplug", "cpus": "2-7", "host": "lpar1", "incremental": True}),
        req(6, "mode.verify"),
        req(7, "mode.restore"),
        req(8, "mode.verify"),
        req(9, "mode.apply", {"mode": "hotplug", "cpus": "all", "host": "lpar1"}),
        req(10, "mode.apply", {"mode": "hotplug", "cpus": "0-9", "host": "lpar1"}),
        req(11, "mode.apply", {"mode": "hotplug", "cpus": "0", "host": "lpar1"}),
        req(12, "mode.apply", {"mode": "hotplug", "cpus": "1-3", "host": "lpar1", "evacuation": True,
                               "evacuation_window_ms": 20}),
        req(13, "mode.apply", {"mode": "out-of-box", "host": "lpar1"}),
        req(14, "mode.verify"),
        req(15, "shutdown"),
    ]),
    "bad-mode-params": ({}, [
        HELLO,
        req(2, "mode.apply", {}),
        req(3, "mode.apply", {"mode": "governor"}),
        req(4, "mode.apply", {"mode": "hotplug"}),
        req(5, "mode.apply", {"mode": "hotplug", "cpus": "3-1"}),
        req(6, "mode.apply", {"mode": "paravirt", "cpus": "1", "interface": "magic"}),
        req(7, "mode.apply", {"mode": "hotplug", "cpus": "non-entitled", "host": "h"}),
        req(8, "mode.apply", {"mode": "cpuset", "cpus": "0-7", "host": "h"}),
        req(9, "mode.apply", {"mode": "preferred", "host": "h"}),
        req(10, "mode.apply", {"mode": "paravirt", "cpus": "1", "interface": "powerpc-debugfs", "host": "h"}),
        req(11, "shutdown"),
    ]),
    "paravirt": ({"entitled": 3}, [
        HELLO,
        req(2, "mode.apply", {"mode": "paravirt", "cpus": "non-entitled", "host": "h"}),
        req(3, "mode.verify"),
        req(4, "mode.apply", {"mode": "paravirt", "cpus": "4-7", "host": "h", "incremental": True}),
        req(5, "mode.verify"),
        req(6, "mode.apply", {"mode": "paravirt", "cpus": "all", "host": "h"}),
        req(7, "mode.apply", {"mode": "paravirt", "cpus": "0-6", "host": "h"}),
        req(8, "mode.verify"),
        ("eof",),
    ]),
    "paravirt-readonly": ({"paravirt_writable": False}, [
        HELLO,
        req(2, "mode.apply", {"mode": "paravirt", "cpus": "6-7", "host": "h"}),
        req(3, "shutdown"),
    ]),
    "powerpc-debugfs": ({"paravirt": False, "vp_hint": True, "entitled": 2}, [
        HELLO,
        req(2, "mode.apply", {"mode": "paravirt", "cpus": "2-5", "host": "h"}),
        req(3, "mode.apply", {"mode": "paravirt", "cpus": "non-entitled", "host": "h"}),
        req(4, "mode.verify"),
        req(5, "mode.restore"),
        req(6, "shutdown"),
    ]),
    "preferred": ({"steal_governor": True}, [
        HELLO,
        req(2, "mode.apply", {"mode": "preferred", "host": "h", "interval_ms": 50}),
        req(3, "mode.apply", {"mode": "preferred", "host": "h", "interval_ms": 500, "high_threshold": 800,
                              "low_threshold": 300}),
        req(4, "mode.verify"),
        req(5, "facts"),
        req(6, "mode.restore"),
        req(7, "mode.verify"),
        req(8, "shutdown"),
    ]),
    "cpuset-v2": ({"entitled": 2}, [
        HELLO,
        req(2, "mode.apply", {"mode": "cpuset", "cpus": "non-entitled", "host": "h"}),
        req(3, "mode.verify"),
        req(4, "mode.apply", {"mode": "cpuset", "cpus": "6-7", "host": "h", "incremental": True}),
        req(5, "mode.verify"),
        req(6, "mode.apply", {"mode": "hotplug", "cpus": "7", "host": "h"}),
        req(7, "mode.apply", {"mode": "cpuset", "cpus": "4-7", "host": "h"}),
        ("signal", signal.SIGTERM),
    ]),
    "cpuset-v1": ({"cgroup": "v1"}, [
        HELLO,
        req(2, "mode.apply", {"mode": "cpuset", "cpus": "4-7", "host": "h"}),
        req(3, "mode.verify"),
        req(4, "mode.restore"),
        req(5, "shutdown"),
    ]),
    "crash-and-recover": ({"entitled": 1}, [
        ("restart", {"PVBENCH_CRASH_AT_STEP": "4"}),
        HELLO,
        req(2, "mode.apply", {"mode": "hotplug", "cpus": "non-entitled", "host": "h"}),
        ("wait",),
        ("restart", {}),
        HELLO,
        req(3, "mode.verify"),
        ("restart", {"PVBENCH_CRASH_AT_STEP": "5"}),
        HELLO,
        req(4, "mode.apply", {"mode": "cpuset", "cpus": "4-7", "host": "h"}),
        ("wait",),
        ("restart", {}),
        HELLO,
        req(5, "mode.verify"),
        req(6, "shutdown"),
    ]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", action="append", required=True,
                        help="NAME=COMMAND (the first is the reference)")
    parser.add_argument("--out", help="folder for the transcripts (NAME.txt)")
    parser.add_argument("--only", action="append", help="scenario names to run")
    args = parser.parse_args()
    agents = [a.split("=", 1) for a in args.agent]
    workdir = tempfile.mkdtemp(prefix="pva-conformance-")
    names = args.only or list(SCENARIOS)
    transcripts = {}
    for name, command in agents:
        lines = []
        for scenario in names:
            options, steps = SCENARIOS[scenario]
            lines.append(f"=== {scenario}")
            lines += run_scenario(command, steps, options, workdir)
        transcripts[name] = lines
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, f"{name}.txt"), "w") as f:
                f.write("\n".join(lines) + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    reference, *others = agents
    failed = False
    for name, _ in others:
        diff = list(difflib.unified_diff(transcripts[reference[0]], transcripts[name], reference[0], name,
                                         lineterm="", n=1))
        if diff:
            failed = True
            print(f"--- {name} differs from {reference[0]}:")
            print("\n".join(diff))
        else:
            print(f"{name}: same as {reference[0]} ({len(transcripts[name])} lines)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
