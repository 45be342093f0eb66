#!/usr/bin/python3
# Generates the CP vectors of tests/unit/test_ike_cp.c with scapy 2.5 (Debian bookworm python3-scapy)
from scapy.contrib.ikev2 import IKEv2_payload_CP, ConfigurationAttribute as A

def cp(cfgtype, attrs):
    # scapy 2.5's IKEv2_payload_CP computes its length from a field "load" it does not have
    # (ValueError): the payload length is given here as 8 + the attributes scapy encoded
    alen = sum(len(bytes(a)) for a in attrs)
    b = bytes(IKEv2_payload_CP(next_payload=0, length=8 + alen, CFGType=cfgtype, attributes=attrs))
    return b[4:]  # the body, after the generic payload header

ip = lambda t, a: A(type=t, length=4, value=a)      # IPField value
empty = lambda t: A(type=t, length=0, value=b"")
sub = lambda a, m: A(type=13, value=bytes(a + m))   # StrLenField value, length from it

vec = {
 "req": cp(1, [empty(1), empty(2), empty(3), empty(4), empty(13),
               sub([192,168,10,0], [255,255,255,0]), sub([10,1,0,0], [255,255,0,0])]),
 "rep": cp(2, [ip(1, "172.16.1.10"), ip(2, "255.255.255.0"), ip(3, "8.8.8.8"), ip(3, "1.1.1.1"),
               ip(4, "10.0.0.53"), sub([10,0,0,0], [255,0,0,0]), sub([172,16,0,1], [255,255,255,255])]),
 "set": cp(3, [sub([192,168,20,0], [255,255,255,0])]),
 "ack": cp(4, [empty(13)]),
 "none": cp(1, []),
 "app": cp(1, [empty(1), A(type=7, value=b"flexhub 0.1"), empty(14)]),
}
for k, v in vec.items():
    print(k, v.hex())
