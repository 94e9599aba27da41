#!/usr/bin/python3
# tests/bpf/paths.sh's client and server: real connections from a process
# in a cgroup, and the keepalive values the kernel reports for each end.
#
#   paths-conn.py out PROCS [--fight=IDLE] [--hold=FILE] DST,DPORT,SPORT...
#       listens on each DST:DPORT (0: any port; a "::ffff:a.b.c.d" DST is
#       listened for on a.b.c.d) outside the cgroup, joins the cgroup
#       (writes its PID to PROCS), connects to each from source port SPORT
#       (0: any) and prints the connecting end's values
#   paths-conn.py in PROCS LISTEN SRC...
#       makes a client socket bound to each SRC outside the cgroup, joins
#       it, listens on LISTEN:0 and prints the accepted end's values, by SRC
# --fight=IDLE: after connecting, the program turns keepalive off and sets
#       TCP_KEEPIDLE=IDLE itself (what force mode absorbs)
# --hold=FILE: after connecting, prints "ready" and waits (10 s at most)
#       until FILE exists before reading the values
import os, socket, sys, time

TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT = 4, 5, 6, 18


def values(s):
    g = lambda level, name: s.getsockopt(level, name)
    return "keepalive=%d idle=%d interval=%d count=%d uto=%d" % (
        g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, TCP_KEEPIDLE),
        g(socket.IPPROTO_TCP, TCP_KEEPINTVL), g(socket.IPPROTO_TCP, TCP_KEEPCNT),
        g(socket.IPPROTO_TCP, TCP_USER_TIMEOUT))


def join(procs):
    with open(procs, "w") as f:
        f.write(str(os.getpid()))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def main():
    mode, procs = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    fight = hold = None
    while args and args[0].startswith("--"):
        k, v = args.pop(0)[2:].split("=", 1)
        if k == "fight":
            fight = int(v)
        elif k == "hold":
            hold = v
    keep = []
    report = []
    if mode == "out":
        targets = []
        for spec in args:
            dst, dport, sport = spec.rsplit(",", 2)
            ldst = dst[7:] if dst.startswith("::ffff:") else dst
            l = socket.socket(family(ldst), socket.SOCK_STREAM)
            l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            l.bind((ldst, int(dport)))
            l.listen(8)
            keep.append(l)
            targets.append((spec, dst, l.getsockname()[1], int(sport)))
        join(procs)
        for spec, dst, port, sport in targets:
            c = socket.socket(family(dst), socket.SOCK_STREAM)
            if sport:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                c.bind(("::" if family(dst) == socket.AF_INET6 else "0.0.0.0", sport))
            c.connect((dst, port))
            keep.append(c)
            report.append((spec, c))
    else:
        listen, srcs = args[0], args[1:]
        clients = []
        for src in srcs:
            c = socket.socket(family(src), socket.SOCK_STREAM)
            c.bind((src, 0))
            clients.append((src, c))
        join(procs)
        l = socket.socket(family(listen), socket.SOCK_STREAM)
        l.bind((listen, 0))
        l.listen(8)
        keep.append(l)
        for src, c in clients:
            c.connect(l.getsockname()[:2])
            a, peer = l.accept()
            if peer[0] != src:
                sys.exit("accepted %s, want %s" % (peer[0], src))
            keep += [c, a]
            report.append((src, a))
    for spec, s in report:
        if fight is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
            s.setsockopt(socket.IPPROTO_TCP, TCP_KEEPIDLE, fight)
    if hold:
        print("ready", flush=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(hold):
            if time.monotonic() > deadline:
                sys.exit("%s did not appear within 10 s" % hold)
            time.sleep(0.02)
    for spec, s in report:
        print(spec, values(s), flush=True)


main()
