"""Limits at run time: past limits.sa-pairs a new pair is refused, counted and logged, the daemon
keeps serving, and the room comes back when pairs go (nothing leaks). Pairs come from the
benchmark command (crypto ipsec bench install), the same path negotiated pairs take."""
import pytest

from fh import Daemon, Lab, can_use_netns
from test_scale import config

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    lab = Lab()
    a, b = lab.ns("a"), lab.ns("b")
    lab.veth(a, "a-gi1", b, "b-gi1", "192.168.0.20/24")
    lab.veth(a, "a-gi2", b, "b-gi2", "10.96.0.1/11")
    text = config("a", 4) + "limits:\n  sa-pairs: 8\n  interfaces: 16\n"
    d = Daemon(a, text, tmp_path_factory.mktemp("limits"), "RouterA").start()
    yield d
    rc = d.stop()
    lab.close()
    assert rc == 0, d.log_text()[-3000:]


def test_sa_pairs_limit_refuses_counts_and_recovers(small):
    d = small
    r = d.ctl("crypto", "ipsec", "bench", "install", "10", check=False)
    assert "installed 4 of 10" in r.stdout, r.stdout
    cc = d.counters()["control"]
    # 4 static pairs are in; 4 more fit; the other 6 are refused, counted, never a hang or crash
    assert cc["sa-pair-limit"] >= 6, cc
    assert "limits.sa-pairs (8) reached" in d.log_text()
    assert d.ctl("show", "version").returncode == 0
    assert len(d.ctl("show", "crypto", "ipsec", "sa", json_out=True)) == 4
    # the refused and the removed pairs left nothing behind: 4 fit again, exactly
    ok = d.ctl("crypto", "ipsec", "bench", "install", "4", json_out=True)
    assert ok["installed"] == 4, ok
    before = d.counters()["control"]["sa-pair-limit"]
    d.ctl("crypto", "ipsec", "bench", "install", "5", check=False)
    assert d.counters()["control"]["sa-pair-limit"] - before == 1
