#!/usr/bin/env python3
"""Writes the seed corpus of the binary-input fuzz targets into corpus/<name>/.

The text targets' seeds (xlcfg, xl_disk, xl_vif, vlan_cfg) are plain files
written by hand; this script makes the ones whose input is a packed layout
(see the comment at the top of each tests/fuzz/fuzz_<name>.c). Run it after
changing an input layout; libFuzzer finds the rest from these starting points.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def save(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- blkif_req: abi, features, sector size, sectors, max indirect, slot ----
READ, WRITE, BARRIER, FLUSH, DISCARD, INDIRECT = 0, 1, 2, 3, 5, 6
FLUSH_F, BARRIER_F, DISCARD_F, SECURE_F, RO_F = 2, 4, 8, 16, 1


def dev(abi, features, ss_shift, sectors, max_ind):
    return struct.pack("<BBBQH", abi, features, ss_shift, sectors, max_ind)


def rw64(op, sector, segs, req_id=7):
    s = struct.pack("<BBHIQQ", op, len(segs), 0, 0, req_id, sector)
    for gref, first, last in segs:
        s += struct.pack("<IBBH", gref, first, last, 0)
    return s.ljust(112, b"\0")


def rw32(op, sector, segs, req_id=7):
    s = struct.pack("<BBHQQ", op, len(segs), 0, req_id, sector)
    for gref, first, last in segs:
        s += struct.pack("<IBBH", gref, first, last, 0)
    return s.ljust(108, b"\0")


def discard64(sector, count, flag=0):
    return struct.pack("<BBHIQQQ", DISCARD, flag, 0, 0, 9, sector, count).ljust(112, b"\0")


def indirect64(inner, nsegs, grefs, sector=0):
    s = struct.pack("<BBHIQQHH", INDIRECT, inner, nsegs, 0, 11, sector, 0, 0)
    s += struct.pack("<8I", *(grefs + [0] * (8 - len(grefs))))
    return s.ljust(112, b"\0")


def segs(n, first=0, last=7):
    return b"".join(struct.pack("<IBBH", 100 + i, first, last, 0) for i in range(n))


ALL = FLUSH_F | BARRIER_F | DISCARD_F | SECURE_F
save("blkif_req", "read-one-page", dev(0, ALL, 0, 1 << 20, 256) + rw64(READ, 8, [(5, 0, 7)]))
save("blkif_req", "write-11-segments",
     dev(0, ALL, 0, 1 << 20, 256) + rw64(WRITE, 0, [(i, 0, 7) for i in range(11)]))
save("blkif_req", "write-read-only", dev(0, RO_F, 0, 1 << 20, 0) + rw64(WRITE, 0, [(5, 0, 7)]))
save("blkif_req", "read-past-end", dev(0, 0, 0, 16, 0) + rw64(READ, 12, [(5, 0, 7)]))
save("blkif_req", "4k-misaligned", dev(0, 0, 3, 1 << 20, 0) + rw64(READ, 1, [(5, 1, 7)]))
save("blkif_req", "flush-empty", dev(0, FLUSH_F, 0, 1 << 20, 0) + rw64(FLUSH, 0, []))
save("blkif_req", "barrier-not-offered", dev(0, FLUSH_F, 0, 1 << 20, 0) + rw64(BARRIER, 0, []))
save("blkif_req", "discard-secure", dev(0, ALL, 0, 1 << 20, 0) + discard64(64, 128, 1))
save("blkif_req", "indirect-256-read",
     dev(0, ALL, 0, 1 << 30, 256) + indirect64(READ, 256, [40]) + segs(256))
save("blkif_req", "indirect-too-many", dev(0, ALL, 0, 1 << 30, 32) + indirect64(WRITE, 33, [40]))
save("blkif_req", "x86_32-write",
     dev(1, ALL, 0, 1 << 20, 256) + rw32(WRITE, 16, [(5, 0, 7), (6, 0, 3)]))
save("blkif_req", "unknown-op", dev(0, ALL, 0, 1 << 20, 256) + rw64(77, 0, [(5, 0, 7)]))

# ---- netif_txreq: prod, cons, slots of 12 bytes ----
CSUM, MORE, EXTRA = 1, 4, 8


def txreq(gref, offset, flags, req_id, size):
    return struct.pack("<IHHHH", gref, offset, flags, req_id, size)


def extra_gso(size, gso_type, more=False):
    return struct.pack("<BBHBBH", 1, 1 if more else 0, size, gso_type, 0, 0).ljust(12, b"\0")


def extra_mcast(add, mac):
    return struct.pack("<BB", 2 if add else 3, 0) + mac + b"\0" * 4


def ring(prod, cons, *slots):
    return struct.pack("<II", prod, cons) + b"".join(slots)


save("netif_txreq", "one-frame", ring(1, 0, txreq(1, 0, CSUM, 0, 60)))
save("netif_txreq", "three-frags",
     ring(3, 0, txreq(1, 100, MORE, 0, 3000), txreq(2, 0, MORE, 1, 1000), txreq(3, 0, 0, 2, 500)))
save("netif_txreq", "gso-tcpv4",
     ring(4, 0, txreq(1, 0, CSUM | EXTRA | MORE, 0, 9000), extra_gso(1448, 1),
          txreq(2, 0, MORE, 1, 4096), txreq(3, 0, 0, 2, 3000)))
save("netif_txreq", "mcast-add", ring(2, 0, txreq(0, 0, EXTRA, 0, 0),
                                      extra_mcast(True, bytes([1, 0, 0x5e, 0, 0, 1]))))
save("netif_txreq", "too-short", ring(1, 0, txreq(1, 0, 0, 0, 10)))
save("netif_txreq", "cross-page", ring(1, 0, txreq(1, 4000, 0, 0, 200)))
save("netif_txreq", "overrun", ring(0x10000, 0, txreq(1, 0, 0, 0, 60)))
save("netif_txreq", "too-many-slots",
     ring(30, 0, txreq(1, 0, MORE, 0, 30 * 64), *[txreq(2 + i, 0, MORE, 1 + i, 64) for i in range(25)]))

# ---- vlan_tag: vlan value NUL, flags, headroom, virtio_net_hdr, frame ----
MACS = bytes(range(1, 13))


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


IPV4 = b"\x08\x00" + b"\x45" + b"\0" * 45
save("vlan_tag", "untagged-from-guest", b"10p/20\0" + bytes([0, 4]) + vnet() + MACS + IPV4)
save("vlan_tag", "untagged-csum-vnet",
     b"10\0" + bytes([2, 4]) + vnet(1, 0, 0, 0, 34, 16) + MACS + IPV4)
save("vlan_tag", "tagged-member-from-guest",
     b"10p/20\0" + bytes([0, 0]) + vnet() + MACS + b"\x81\x00\x00\x14" + IPV4)
save("vlan_tag", "priority-tag", b"10p/20\0" + bytes([0, 0]) + vnet() + MACS + b"\x81\x00\xa0\x00" + IPV4)
save("vlan_tag", "to-guest-pvid-gso",
     b"10p/20\0" + bytes([3, 0]) + vnet(1, 1, 58, 1448, 38, 16) + MACS + b"\x81\x00\x00\x0a" + IPV4)
save("vlan_tag", "to-guest-tagged", b"10p/20\0" + bytes([1, 0]) + vnet() + MACS + b"\x81\x00\x00\x14" + IPV4)
save("vlan_tag", "no-vlan", b"\0" + bytes([0, 0]) + vnet() + MACS + IPV4)

# ---- credit: rate NUL, change NUL, events (size/4 u16, step u16, kind u8) ----


def events(*evs):
    return b"".join(struct.pack("<HHB", s, t, k) for s, t, k in evs)


save("credit", "10mbit-20ms", b"25000,20000\0" + b"50000,10000\0" +
     events((375, 0, 0), (375, 0, 0), (16384, 100, 6), (375, 9000, 0), (0, 0, 7), (375, 1, 0)))
save("credit", "tiny-rate-gso", b"1,1000000\0\0" + events((16384, 0, 6), (16384, 0, 6)))
save("credit", "bad-rate", b"25000;20000\0")
# What xl writes for rate=1b/s: nothing passes until the rate changes.
save("credit", "zero-rate", b"0,50000\0" + b"62500,50000\0" +
     events((375, 0, 6), (375, 100, 0), (0, 0, 7), (375, 20000, 6)))
save("credit", "huge-window", b"18446744073709551615,3600000000\0" + b"1,1\0" +
     events((65535, 65535, 0), (1, 1, 7), (65535, 65535, 6)))

# ---- xenbus_fsm: events (kind, value) ----
FE, READY, ONLINE, DETACH, CFAIL, FATAL, GONE = range(7)
save("xenbus_fsm", "connect-and-close",
     bytes([READY, 1, FE, 3, FE, 4, FE, 5, FE, 6, FE, 1, FE, 3]))
save("xenbus_fsm", "destroy", bytes([READY, 1, FE, 4, DETACH, 0]))
save("xenbus_fsm", "bad-frontend", bytes([FE, 3, FE, 9, FE, 6, FE, 2]))
save("xenbus_fsm", "connect-fails", bytes([CFAIL, 1, READY, 1, FE, 4, FE, 2, FE, 6, CFAIL, 0, FE, 4]))
save("xenbus_fsm", "data-path-fatal", bytes([READY, 1, FE, 4, FATAL, 0, FE, 1, FE, 5, FE, 6]))
save("xenbus_fsm", "frontend-gone", bytes([READY, 1, FE, 4, GONE, 0, ONLINE, 0]))

# ---- xs_parse: bounds byte, value NUL, key ----
save("xs_parse", "port", b"\x03" + b"4294967295\0event-channel")
save("xs_parse", "order", b"\x01" + b"2\0ring-page-order")
save("xs_parse", "negative", b"\x48" + b"-2147483648\0")
save("xs_parse", "unprintable", b"\x00" + b"ab\x01\x7f" + b"x" * 70 + b"\0k")
save("xs_parse", "overflow", b"\x00" + b"18446744073709551616\0")

# ---- xenstored: guest byte, then xs_wire messages ----
(CONTROL, DIRECTORY, READ_, GET_PERMS, WATCH, UNWATCH, TSTART, TEND, INTRODUCE, RELEASE,
 GET_DOMAIN_PATH, WRITE_, MKDIR, RM, SET_PERMS) = range(15)
IS_INTRODUCED, RESUME, SET_TARGET, RESET_WATCHES, DIRECTORY_PART = 17, 18, 19, 21, 22


def msg(t, payload, req_id=1, tx_id=0):
    return struct.pack("<IIII", t, req_id, tx_id, len(payload)) + payload


def z(*parts):
    return b"".join(p + b"\0" for p in parts)


save("xenstored", "dom0-tree", b"\0" + msg(WRITE_, z(b"/local/domain/1/data") [:-1] + b"\0hello")
     + msg(READ_, z(b"/local/domain/1/data")) + msg(DIRECTORY, z(b"/local/domain/1"))
     + msg(GET_PERMS, z(b"/local/domain/1")) + msg(SET_PERMS, z(b"/local/domain/1/data", b"n1", b"r0"))
     + msg(DIRECTORY_PART, z(b"/local/domain", b"0")) + msg(RM, z(b"/local/domain/1/data")))
save("xenstored", "dom0-txn", b"\0" + msg(TSTART, z(b"")) + msg(MKDIR, z(b"/tool/x"), 2, 1)
     + msg(WRITE_, b"/tool/x/y\0v", 3, 1) + msg(TEND, z(b"T"), 4, 1))
save("xenstored", "dom0-domains", b"\0" + msg(INTRODUCE, z(b"5", b"0", b"1"))
     + msg(IS_INTRODUCED, z(b"5")) + msg(SET_TARGET, z(b"5", b"1")) + msg(RESUME, z(b"5"))
     + msg(GET_DOMAIN_PATH, z(b"5")) + msg(RELEASE, z(b"5")) + msg(CONTROL, z(b"quota")))
save("xenstored", "guest-watch", b"\1" + msg(WATCH, z(b"device", b"tok"))
     + msg(WRITE_, b"device/vif\0x") + msg(UNWATCH, z(b"device", b"tok"))
     + msg(WATCH, z(b"@releaseDomain", b"r")) + msg(RESET_WATCHES, b""))
save("xenstored", "guest-denied", b"\1" + msg(WRITE_, b"/local/domain/0/x\0v")
     + msg(INTRODUCE, z(b"7", b"0", b"1")) + msg(READ_, z(b"/tool")))
save("xenstored", "oversized", b"\1" + struct.pack("<IIII", READ_, 1, 0, 5000) + b"x" * 16)


# ---- csum_setup: a frame (Ethernet, IPv4/IPv6, TCP/UDP) ----


def ipv4(proto, payload, ihl=5, frag=0):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(payload), 1, frag, 64, proto, 0,
                      bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return hdr + b"\0" * (ihl * 4 - 20) + payload


def ipv6(nexthdr, payload):
    return struct.pack(">IHBB16s16s", 6 << 28, len(payload), nexthdr, 64, b"\0" * 15 + b"\1",
                       b"\0" * 15 + b"\2") + payload


TCP = struct.pack(">HHIIBBHHH", 1234, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + b"data"
TCP_OPTS = struct.pack(">HHIIBBHHH", 1234, 80, 1, 0, 8 << 4, 0x18, 65535, 0, 0) + b"\1" * 12
UDP = struct.pack(">HHHH", 53, 53, 12, 0) + b"abcd"
ETH4, ETH6 = MACS + b"\x08\x00", MACS + b"\x86\xdd"

save("csum_setup", "ipv4-tcp", ETH4 + ipv4(6, TCP))
save("csum_setup", "ipv4-tcp-options", ETH4 + ipv4(6, TCP_OPTS, ihl=6))
save("csum_setup", "ipv4-udp-vlan", MACS + b"\x81\x00\x00\x0a\x08\x00" + ipv4(17, UDP))
save("csum_setup", "ipv4-fragment", ETH4 + ipv4(6, TCP, frag=0x2000))
save("csum_setup", "ipv6-tcp", ETH6 + ipv6(6, TCP))
save("csum_setup", "ipv6-hopbyhop-udp", ETH6 + ipv6(0, bytes([17, 0]) + b"\0" * 6 + UDP))
save("csum_setup", "ipv6-fragment-whole", ETH6 + ipv6(44, bytes([6, 0, 0, 0, 0, 0, 0, 1]) + TCP))
save("csum_setup", "truncated-tcp", ETH4 + ipv4(6, TCP)[:30])
save("csum_setup", "arp", MACS + b"\x08\x06" + b"\0" * 28)
save("xenstored", "guest-attacks-backend", b"\1"
     + msg(WRITE_, b"/local/domain/0/backend/vbd/1/51712/state\0" + b"4")
     + msg(SET_PERMS, z(b"/local/domain/0/backend/vbd/1/51712", b"b1"))
     + msg(RM, z(b"/local/domain/0/backend/vbd/1/51712"))
     + msg(READ_, z(b"/tool/pvback/secret"))
     + msg(READ_, z(b"/local/domain/0/backend/vbd/1/51712/params"))
     + msg(WRITE_, b"device/vbd/51712/state\0" + b"3")
     + msg(SET_PERMS, z(b"device/vbd/51712", b"n1", b"b0")))
save("xenstored", "guest-reads-secrets", b"\1" + msg(READ_, z(b"/tool/pvback/secret"))
     + msg(READ_, z(b"/local/domain/2/data/secret")) + msg(DIRECTORY, z(b"/local/domain/2/data"))
     + msg(WATCH, z(b"/local/domain/2", b"t")))
