"""IKEv2 site-to-site, flexhub against flexhub: the guide's RouterA and RouterB configs as they are
(config/site-to-site-a.yaml, -b.yaml: PSK cisco123, aes-cbc-256/sha256/group 14, esp-aes 256
esp-sha-hmac, dpd 10 2 on-demand). The routers negotiate Tunnel0 by themselves; LAN A pings LAN B
through it; rekeys lose nothing; clear and restart bring it back; a wrong key never brings it up.
"""
import re
import threading
import time

import pytest

from fh import ROOT, Daemon, Lab, can_use_netns, run, site_to_site_lab

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


def ping(ns, addr, count=3, interval=0.2, timeout=2, size=56):
    return run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", str(interval), "-W", str(timeout), "-s",
                str(size), addr], check=False)


def wait_ready(router, n=1, timeout=20):
    end = time.time() + timeout
    sas = []
    while time.time() < end:
        sas = [s for s in router.ctl("show", "crypto", "ikev2", "sa", json_out=True) if s["status"] == "READY"]
        if len(sas) >= n and all(s["child-sas"] >= 1 for s in sas):
            return sas
        time.sleep(0.2)
    raise AssertionError(f"no READY IKEv2 SA after {timeout}s: {sas}\n" + router.log_text()[-3000:])


@pytest.fixture(scope="module")
def s2s(tmp_path_factory):
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    d = tmp_path_factory.mktemp("ike-s2s")
    ra = Daemon(a, (ROOT / "config/site-to-site-a.yaml").read_text(), d, "RouterA").start()
    rb = Daemon(b, (ROOT / "config/site-to-site-b.yaml").read_text(), d, "RouterB").start()
    yield lab, ra, rb, la, lb, d
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text() + rb.log_text()


def test_tunnel_comes_up_and_lans_ping(s2s):
    lab, ra, rb, la, lb, d = s2s
    wait_ready(ra)
    wait_ready(rb)
    ping(la, "10.20.2.2", count=2)  # ARP on both LANs
    r = ping(la, "10.20.2.2", count=10)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    ipsec = ra.ctl("show", "crypto", "ipsec", "sa", json_out=True)
    assert len(ipsec) == 1 and ipsec[0]["keying"] == "ikev2" and ipsec[0]["encaps"] >= 10
    assert ipsec[0]["transform"].startswith("esp-256-aes")


def test_show_crypto_ikev2_sa_like_the_guide(s2s):
    lab, ra, rb, la, lb, d = s2s
    wait_ready(rb)
    text = rb.ctl("show", "crypto", "ikev2", "sa").stdout
    assert re.search(r"(?m)^\d+\s+192\.168\.0\.20/500\s+192\.168\.0\.10/500\s+none/none\s+READY$", text), text
    assert "Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, Auth sign: PSK, Auth verify: PSK" in text
    assert re.search(r"Life/Active Time: 86400/\d+ sec", text), text
    detail = rb.ctl("show", "crypto", "ikev2", "sa", "detail").stdout
    assert "Remote id: 192.168.0.10" in detail and "DPD configured for 10 seconds, retry 2" in detail, detail
    # IOS abbreviations work as for every command
    assert "READY" in rb.ctl("sh", "cry", "ikev2", "sa").stdout


def test_rekeys_lose_no_packets(s2s):
    lab, ra, rb, la, lb, d = s2s
    wait_ready(ra)
    ping(la, "10.20.2.2", count=1)
    before = ra.ctl("show", "crypto", "ikev2", "stats", json_out=True)
    result = {}

    def pinger():
        result["r"] = ping(la, "10.20.2.2", count=40, interval=0.05)

    t = threading.Thread(target=pinger)
    t.start()
    time.sleep(0.5)
    ra.ctl("crypto", "ikev2", "rekey", "child")
    time.sleep(0.5)
    rb.ctl("crypto", "ikev2", "rekey", "ike")
    time.sleep(0.5)
    rb.ctl("crypto", "ikev2", "rekey", "child")
    t.join()
    r = result["r"]
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    after = ra.ctl("show", "crypto", "ikev2", "stats", json_out=True)
    assert after["child-sa-rekeyed"] >= before["child-sa-rekeyed"] + 2
    assert after["ike-sa-rekeyed"] == before["ike-sa-rekeyed"] + 1
    # old pairs are gone: one pair each, one IKE SA each
    assert len(ra.ctl("show", "crypto", "ipsec", "sa", json_out=True)) == 1
    assert len([s for s in ra.ctl("show", "crypto", "ikev2", "sa", json_out=True) if s["status"] == "READY"]) == 1


def test_clear_brings_it_back(s2s):
    lab, ra, rb, la, lb, d = s2s
    old = wait_ready(ra)[0]
    out = rb.ctl("clear", "crypto", "ikev2", "sa").stdout
    assert "cleared" in out
    new = wait_ready(ra)
    assert new[0]["spi-i"] != old["spi-i"]
    ping(la, "10.20.2.2", count=2)
    r = ping(la, "10.20.2.2", count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout


def test_reload_keeps_sas_and_shutdown_deletes_them(s2s):
    """configure replace: an unchanged tunnel keeps its SAs; a tunnel shut down in the new file has
    its IKE SA deleted (the peer hears it); back up, it is negotiated again."""
    lab, ra, rb, la, lb, d = s2s
    old = wait_ready(ra)[0]
    text = ra.cfg.read_text()
    ra.ctl("configure", "replace")
    assert wait_ready(ra)[0]["spi-i"] == old["spi-i"]
    ra.cfg.write_text(text.replace("    tunnel-protection: FLEXVPN_PROFILE\n",
                                   "    tunnel-protection: FLEXVPN_PROFILE\n    shutdown: true\n"))
    ra.ctl("configure", "replace")
    end = time.time() + 5
    while time.time() < end and rb.ctl("show", "crypto", "ipsec", "sa", json_out=True):
        time.sleep(0.1)
    assert ra.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
    assert rb.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
    assert "tunnel removed or changed by a reload" in ra.log_text()
    ra.cfg.write_text(text)
    ra.ctl("configure", "replace")
    wait_ready(ra)
    wait_ready(rb)
    ping(la, "10.20.2.2", count=2)
    r = ping(la, "10.20.2.2", count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout


def test_delete_on_stop_and_dpd_restart(s2s):
    """RouterB stops: its Delete takes the tunnel down on A at once; B back: A's tunnel returns."""
    lab, ra, rb, la, lb, d = s2s
    wait_ready(ra)
    deleted = ra.ctl("show", "crypto", "ikev2", "stats", json_out=True)["ike-sa-deleted"]
    assert rb.stop() == 0, rb.log_text()
    end = time.time() + 5
    while time.time() < end and ra.ctl("show", "crypto", "ipsec", "sa", json_out=True):
        time.sleep(0.1)
    assert ra.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
    assert ra.ctl("show", "crypto", "ikev2", "stats", json_out=True)["ike-sa-deleted"] == deleted + 1
    rb.start()
    wait_ready(ra, timeout=30)
    ping(la, "10.20.2.2", count=2)
    r = ping(la, "10.20.2.2", count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout


def test_wrong_psk_never_comes_up(tmp_path):
    lab = Lab()
    try:
        a, b, la, lb = site_to_site_lab(lab)
        text_b = (ROOT / "config/site-to-site-b.yaml").read_text().replace(
            "pre-shared-key-remote: cisco123", "pre-shared-key-remote: not-cisco123")
        ra = Daemon(a, (ROOT / "config/site-to-site-a.yaml").read_text(), tmp_path, "RouterA").start()
        rb = Daemon(b, text_b, tmp_path, "RouterB").start()
        time.sleep(4)
        assert ra.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
        assert rb.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
        sb = rb.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        assert sb["authentication-failed"] >= 1
        assert "pre-shared key does not match" in rb.log_text() or "failed authentication" in rb.log_text()
        assert ra.stop() == 0 and rb.stop() == 0
    finally:
        lab.close()


def test_demo_script_runs():
    """scripts/run-site-to-site.sh --once: the README's walk-through of the first milestone."""
    r = run(["bash", str(ROOT / "scripts/run-site-to-site.sh"), "--once"], check=False, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0% packet loss" in r.stdout, r.stdout
    assert re.search(r"192\.168\.0\.20/500\s+192\.168\.0\.10/500\s+none/none\s+READY", r.stdout), r.stdout
    assert "interface: Tunnel0" in r.stdout and "current outbound spi" in r.stdout
