"""Helpers for flexhub integration tests: network namespaces, veth links, daemons, flexhubctl."""
import json
import os
import pathlib
import re
import select
import signal
import subprocess
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("FLEXHUB_BUILD", ROOT / "build"))
FLEXHUB = BUILD / "app" / "flexhub" / "flexhub"
FLEXHUBCTL = BUILD / "app" / "flexhubctl" / "flexhubctl"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-scapy


def run(cmd, check=True, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=check, **kw)


def can_use_netns():
    """None when namespaces work here, else the reason they do not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = "fhprobe" + uuid.uuid4().hex[:6]
    r = run(["ip", "netns", "add", name], check=False)
    if r.returncode != 0:
        return "ip netns add failed: " + r.stderr.strip()
    run(["ip", "netns", "del", name], check=False)
    return None


class Lab:
    """Namespaces and veth pairs, removed on close. Names are short: Linux caps them at 15."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:5]
        self.namespaces = []

    def ns(self, role):
        name = f"fh{self.tag}{role}"
        run(["ip", "netns", "add", name])
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        self.namespaces.append(name)
        return name

    def veth(self, ns_a, name_a, ns_b, name_b, addr_b=None):
        run(["ip", "link", "add", name_a, "netns", ns_a, "type", "veth", "peer", "name", name_b, "netns", ns_b])
        run(["ip", "-n", ns_a, "link", "set", name_a, "up"])
        run(["ip", "-n", ns_b, "link", "set", name_b, "up"])
        # no IPv6 chatter on the daemon side: keeps counters exact
        run(["ip", "netns", "exec", ns_a, "sysctl", "-qw", f"net.ipv6.conf.{name_a}.disable_ipv6=1"], check=False)
        run(["ip", "netns", "exec", ns_b, "sysctl", "-qw", f"net.ipv6.conf.{name_b}.disable_ipv6=1"], check=False)
        if addr_b:
            run(["ip", "-n", ns_b, "addr", "add", addr_b, "dev", name_b])

    def mac(self, ns, ifname):
        out = run(["ip", "-n", ns, "-j", "link", "show", ifname]).stdout
        return json.loads(out)[0]["address"]

    def close(self):
        for n in self.namespaces:
            run(["ip", "netns", "del", n], check=False)
        self.namespaces = []


class Daemon:
    """A flexhub process in a namespace, started from a config text."""

    def __init__(self, ns, config_text, workdir, name="flexhub"):
        self.ns = ns
        self.dir = pathlib.Path(workdir)
        self.sock = str(self.dir / f"{name}.sock")
        self.cfg = self.dir / f"{name}.yaml"
        self.log = self.dir / f"{name}.log"
        text = re.sub(r"(?m)^control-socket:.*$", f"control-socket: {self.sock}", config_text)
        if "control-socket:" not in text:
            text = f"control-socket: {self.sock}\n" + text
        self.cfg.write_text(text)
        self.proc = None

    def start(self, timeout=20):
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, str(FLEXHUB), "-c", str(self.cfg)],
                                     stdout=subprocess.PIPE, stderr=self.logf, text=True)
        deadline = time.time() + timeout
        line = ""
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                if " up: " in line:
                    return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"flexhub did not come up: {line!r}\n{self.log.read_text()}")

    def ctl(self, *words, json_out=False, check=True):
        cmd = [str(FLEXHUBCTL), "-s", self.sock] + (["--json"] if json_out else []) + list(words)
        r = run(cmd, check=False)
        if check and r.returncode != 0:
            raise AssertionError(f"flexhubctl {' '.join(words)} -> {r.returncode}: {r.stdout}{r.stderr}")
        return json.loads(r.stdout) if json_out and r.returncode == 0 else r

    def counters(self):
        return self.ctl("show", "counters", json_out=True)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.logf.close()
        return rc

    def log_text(self):
        return self.log.read_text()


def scapy_send(ns, iface, code):
    """Run scapy in a namespace: `code` builds a list named `pkts` of Ethernet frames to send."""
    script = "from scapy.all import *\nconf.verb = 0\n" + code + f"\nsendp(pkts, iface={iface!r})\n"
    r = run(["ip", "netns", "exec", ns, PYTHON, "-c", script], check=False)
    assert r.returncode == 0, r.stderr


def site_to_site_lab(lab, lan_a=("10.10.1.20/24", "10.10.1.10"), lan_b=("10.20.2.2/24", "10.20.2.20")):
    """The guide's site-to-site wiring: routers A and B Gi1 to Gi1 (a-gi1/b-gi1), a LAN behind each
    (LAN A 10.10.1.20 on a-gi2, LAN B 10.20.2.2 on b-gi2; (address, router) pairs to change them).
    Returns the four namespaces."""
    a, b, la, lb = lab.ns("a"), lab.ns("b"), lab.ns("la"), lab.ns("lb")
    run(["ip", "link", "add", "a-gi1", "netns", a, "type", "veth", "peer", "name", "b-gi1", "netns", b])
    for ns, l in ((a, "a-gi1"), (b, "b-gi1")):
        run(["ip", "-n", ns, "link", "set", l, "up"])
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{l}.disable_ipv6=1"], check=False)
    lab.veth(a, "a-gi2", la, "la-gi2", lan_a[0])
    lab.veth(b, "b-gi2", lb, "lb-gi2", lan_b[0])
    run(["ip", "-n", la, "route", "add", "default", "via", lan_a[1]])
    run(["ip", "-n", lb, "route", "add", "default", "via", lan_b[1]])
    return a, b, la, lb


def wait_for(what, fn, timeout=20):
    """fn() until it returns something true (returned), or AssertionError after timeout seconds."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last})")
