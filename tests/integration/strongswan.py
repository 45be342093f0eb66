"""strongSwan's charon as a test peer: one instance per namespace with its own strongswan.conf, vici
socket, log and private /run (charon's pid file is fixed at /var/run/charon.pid), userspace ESP
(kernel-libipsec: ESP always in UDP 4500, plain tunnel mode; the kernel here has no ESP)."""
import os
import pathlib
import shutil
import signal
import subprocess
import time

from fh import run

CHARON = "/usr/lib/ipsec/charon"
PLUGIN_DIR = "/usr/lib/ipsec/plugins"
PLUGINS = ("random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 x509 pubkey kdf kernel-libipsec "
           "kernel-netlink socket-default vici updown")
# The Debian 12 package that ships each plugin charon.load names (dpkg -S). charon starts without a
# plugin it cannot find and only fails later ("configured DH group MODP_2048 not supported" without
# openssl, no AES-GCM without gcm), so the tests check the files before starting it.
PLUGIN_PACKAGE = {
    "openssl": "libstrongswan-standard-plugins", "gcm": "libstrongswan-standard-plugins",
    "kernel-libipsec": "libcharon-extra-plugins",
    "socket-default": "strongswan-libcharon", "updown": "strongswan-libcharon",
    "vici": "strongswan-swanctl",
}


def missing():
    """None when charon and swanctl are installed, else why not."""
    if not os.path.exists(CHARON) or shutil.which("swanctl") is None:
        return "strongSwan is not installed (strongswan-swanctl, libcharon-extra-plugins)"
    return None


def missing_plugins():
    """[(plugin, Debian package)] for every plugin of charon.load with no file in PLUGIN_DIR."""
    return [(p, PLUGIN_PACKAGE.get(p, "libstrongswan"))
            for p in PLUGINS.split() if not os.path.exists(f"{PLUGIN_DIR}/libstrongswan-{p}.so")]


def assert_plugins():
    """Fail (never skip) when strongSwan is installed without a plugin the tests load: a test that
    skips here would hide a broken machine, and one that runs would fail much later for an
    unrelated-looking reason."""
    gone = missing_plugins()
    assert not gone, ("strongSwan plugins missing from " + PLUGIN_DIR + ": " +
                      ", ".join(f"{p} (Debian package {pkg})" for p, pkg in gone) +
                      "; install with: apt-get install " + " ".join(sorted({pkg for _, pkg in gone})) +
                      " (scripts/setup.sh does)")


class Charon:
    def __init__(self, ns, workdir, name="charon"):
        self.ns = ns
        self.dir = pathlib.Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "run").mkdir(exist_ok=True)
        self.sock = self.dir / "vici.sock"
        self.log = self.dir / "charon.log"
        self.proc = None

    def start(self, swanctl_conf, timeout=10, charon_extra=""):
        assert_plugins()
        (self.dir / "strongswan.conf").write_text(f"""charon {{
  load = {PLUGINS}
  {charon_extra}
  filelog {{ log {{ path = {self.log}
    time_format = %T
    flush_line = yes
    default = 1
    ike = 2 }} }}
  plugins {{ vici {{ socket = unix://{self.sock} }} }}
}}
""")
        (self.dir / "swanctl.conf").write_text(swanctl_conf)
        if self.sock.exists():
            self.sock.unlink()
        env = dict(os.environ, STRONGSWAN_CONF=str(self.dir / "strongswan.conf"))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
             f"mount --bind {self.dir / 'run'} /run && exec {CHARON}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + timeout
        while time.time() < end and not self.sock.exists():
            time.sleep(0.1)
        r = self.swanctl("--load-all", "--file", str(self.dir / "swanctl.conf"))
        if r.returncode != 0:
            raise RuntimeError(f"swanctl --load-all failed: {r.stdout}{r.stderr}\n{self.log_text()[-2000:]}")
        return self

    def swanctl(self, *args, timeout=30):
        return run(["ip", "netns", "exec", self.ns, "swanctl", *args, "--uri", f"unix://{self.sock}"], check=False,
                   timeout=timeout)

    def initiate(self, child="net"):
        return self.swanctl("--initiate", "--child", child, "--timeout", "20")

    def sas(self):
        return self.swanctl("--list-sas").stdout

    def stop(self):
        """SIGTERM: charon deletes its SAs (sends Delete) and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        """SIGKILL: the peer vanishes without a word (for DPD)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""
