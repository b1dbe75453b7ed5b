"""sockets.py WASMGATE OUTDIR [SHARED_HOST]: wasi:sockets 0.2 (issue 13; wasi/src/p2_net.c, p2_tcp.c,
p2_udp.c) through `wasmgate wasm run` of tests/components/sock/sock.c, a command component
importing wasi:sockets@0.2.0 (built here: clang-19, `jco embed` with sock.wit and jco's
wasi-sockets/io/clocks WIT rewritten to 0.2.0, `jco new --wasi-command`; never committed).

Loopback only, free ports, real peers started here: a TCP echo server the component connects
to, a client that connects to the component's listener, a UDP peer that answers "pong"; a name
lookup of localhost. Without grants every operation is access-denied; with a narrower grant the
addresses outside it are. Hostile use: wrong address families, calls in the wrong state, huge
lengths, an out-of-range enum, dropping a socket before its streams (traps, "resource has
children"), sending more datagrams than check-send permitted (traps). Exit 77 when clang-19,
node or jco is missing."""
import concurrent.futures
import os
import re
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "gate"))
sys.path.insert(0, HERE)
import mkcomponent  # noqa: E402
from wgtest import check, finish, free_port, start_alarm  # noqa: E402

WASMGATE, OUT = sys.argv[1], sys.argv[2]
SHARED_HOST = sys.argv[3] if len(sys.argv) > 3 else None  # tests/components/sock/shared_host.c
BUILTIN = os.path.join(mkcomponent.NM, "@bytecodealliance", "jco", "lib", "wit", "builtin", "0.2.12")


def build():
    """sock.wasm from sock.c, with the WIT of sock.wit and jco's WIT at 0.2.0."""
    wit = os.path.join(OUT, "sock-wit")
    os.makedirs(os.path.join(wit, "deps"), exist_ok=True)
    for pkg in ("wasi-sockets", "wasi-io", "wasi-clocks"):
        with open(os.path.join(BUILTIN, pkg, "package.wit")) as f:
            text = f.read().replace("@0.2.12", "@0.2.0")
        os.makedirs(os.path.join(wit, "deps", pkg), exist_ok=True)
        path = os.path.join(wit, "deps", pkg, "package.wit")
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)
    world = os.path.join(wit, "sock.wit")
    src = open(os.path.join(HERE, "sock", "sock.wit")).read()
    if not os.path.exists(world) or open(world).read() != src:
        with open(world, "w") as f:
            f.write(src)
    return mkcomponent.build(os.path.join(HERE, "sock", "sock.c"), os.path.join(OUT, "sock.wasm"), wit, "sock",
                             command=True)


def run(comp, args, flags=(), timeout=60):
    r = subprocess.run([WASMGATE, "wasm", "run", *flags, comp, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def lines(out):
    return out.strip("\n").split("\n") if out.strip() else []


def expect(name, got, want):
    check(got == want, f"{name}: got\n  " + "\n  ".join(got) + "\nwant\n  " + "\n  ".join(want))


class EchoServer:
    """A TCP server on a free loopback port: echoes each connection until its end, then closes it."""

    def __init__(self, v6=False):
        self.sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
        self.sock.bind(("::1" if v6 else "127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.got = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(60)
            data = b""
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    data += b
                    c.sendall(b)
            except OSError:
                pass
            self.got.append(data)
            c.close()


class UdpPeer:
    """Answers each datagram with "pong" to its sender."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            self.got.append((data, peer))
            self.sock.sendto(b"pong", peer)


def tcp_echo(comp, flags):
    srv = EchoServer()
    rc, out, err = run(comp, ["tcp-echo", str(srv.port)], flags)
    check(rc == 0, f"tcp-echo exit {rc}: {err}")
    expect("tcp-echo", lines(out), [
        "address-family: ipv4", "connected", "local-address ipv4 127.0.0.1",
        f"remote-address ipv4 127.0.0.1 port {srv.port}", "keep-alive-enabled: false", "echo: hello, sockets",
        "shutdown(send): ok", "write after shutdown: closed", "read at the end: closed"])
    check(srv.got == [b"hello, sockets\n"], f"the echo server got {srv.got}")
    return out


def tcp_listen(comp, flags):
    p = subprocess.Popen([WASMGATE, "wasm", "run", *flags, comp, "tcp-listen"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    head, port = [], None
    for _ in range(8):
        ln = p.stdout.readline().decode()
        if not ln:
            break
        head.append(ln.rstrip("\n"))
        m = re.match(r"listening (\d+)$", head[-1])
        if m:
            port = int(m.group(1))
            break
    check(port, f"tcp-listen printed no port: {head}")
    reply = b""
    if port:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as c:
            c.sendall(b"hi there\n")
            while not reply.endswith(b"\n"):
                b = c.recv(1024)
                if not b:
                    break
                reply += b
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"tcp-listen exit {p.returncode}: {err.decode()}")
    check(reply == b"ack: hi there\n", f"the client got {reply!r}")
    expect("tcp-listen", head + lines(out.decode()), [
        "finish-bind: ok", "start-listen: ok", "finish-listen: ok", "is-listening: true", f"listening {port}",
        "accepted from ipv4 127.0.0.1", "got: hi there"])


def udp(comp, flags):
    peer = UdpPeer()
    rc, out, err = run(comp, ["udp", str(peer.port)], flags)
    check(rc == 0, f"udp exit {rc}: {err}")
    expect("udp", lines(out), ["check-send: ready", "send: 1 datagram", "received 1 datagram(s): pong from 127.0.0.1"])
    check([d for d, _ in peer.got] == [b"ping"], f"the UDP peer got {peer.got}")
    return out


def ipv6(comp):
    """The same TCP round trip to [::1] when the machine has IPv6 loopback; an IPv4-only grant
    denies it."""
    try:
        srv = EchoServer(v6=True)
    except OSError as e:
        print(f"no IPv6 loopback here ({e}): IPv6 not tested")
        return
    rc, out, err = run(comp, ["tcp-echo6", str(srv.port)], ["--allow-socket", "[::1]:*"])
    check(rc == 0, f"tcp-echo6 exit {rc}: {err}")
    expect("tcp-echo6", lines(out)[:5], [
        "address-family: ipv6", "connected", "local-address ipv6 0:0:0:0:0:0:0:1",
        f"remote-address ipv6 0:0:0:0:0:0:0:1 port {srv.port}", "keep-alive-enabled: false"])
    check("echo: hello, sockets" in lines(out), f"tcp-echo6: {out}")
    rc, out, err = run(comp, ["tcp-echo6", str(srv.port)], ["--allow-socket", "127.0.0.1:*"])
    expect("tcp-echo6 with an IPv4 grant", lines(out), ["address-family: ipv6", "start-connect: access-denied"])


DENIED = ["create-tcp-socket: access-denied", "create-udp-socket: access-denied", "resolve-addresses: access-denied"]


def jco_run(comp, args, timeout=120):
    r = subprocess.run(["node", mkcomponent.JCO, "run", comp, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def oracle(comp, port):
    """`jco run` (node + preview2-shim, which grants every socket) on the same component: the same
    output for a name lookup (which is asynchronous there: would-block, then the pollable) and the
    hostile calls, except where the shim deviates (documented in
    docs/components.md): a second start-bind while one is in progress is invalid-state there,
    concurrency-conflict here and in wasmtime; an enum out of range is a JavaScript TypeError
    there, a trap here."""
    with concurrent.futures.ThreadPoolExecutor(2) as ex:  # two node processes at once: ~1.3 s of CPU each
        lookup = ex.submit(jco_run, comp, ["lookup", "localhost"])
        hostile = ex.submit(jco_run, comp, ["hostile", str(port)])
        _, got, _ = lookup.result()
        rc, got_h, err = hostile.result()
    check("ipv4 127.0.0.1" in lines(got) and lines(got)[-1] == "end", f"jco run lookup localhost: {got}")
    _, want, _ = run(comp, ["hostile", str(port)], ["--inherit-network", "--allow-ip-name-lookup"])
    got = got_h
    deviation = "bind again while in progress: "
    expect("jco run hostile", [ln for ln in lines(got) if not ln.startswith(deviation)],
           [ln for ln in lines(want) if not ln.startswith(deviation)])
    check(f"{deviation}invalid-state" in lines(got) and f"{deviation}concurrency-conflict" in lines(want),
          f"the documented deviation moved: {got}")
    check(rc != 0 and "invalid discriminant" in err, f"jco run hostile: {rc} {err[-300:]}")


def main():
    start_alarm(300)
    why = mkcomponent.missing()
    if why:
        print(f"{'FAIL: ' if os.environ.get('CI') else ''}skip: {why}")
        sys.exit(1 if os.environ.get("CI") else 77)
    os.makedirs(OUT, exist_ok=True)
    comp = build()
    everything = ["--inherit-network", "--allow-ip-name-lookup"]

    # granted: real traffic over loopback, in both directions, and both spellings of the grant
    tcp_echo(comp, ["--inherit-network"])
    tcp_echo(comp, ["-S", "inherit-network"])
    tcp_listen(comp, ["--allow-socket", "127.0.0.1:*"])
    ipv6(comp)
    udp(comp, ["--allow-socket", "127.0.0.0/8:*"])
    rc, out, err = run(comp, ["lookup", "localhost"], ["--allow-ip-name-lookup"])
    check(rc == 0 and "ipv4 127.0.0.1" in lines(out) and lines(out)[-1] == "end", f"lookup localhost: {out} {err}")
    check(not any(ln.startswith("ipv6 0:0:0:0:0:ffff") for ln in lines(out)), f"an IPv4-mapped address: {out}")
    rc, out, err = run(comp, ["lookup", "127.0.0.1"], ["-S", "allow-ip-name-lookup"])
    expect("lookup of an address", lines(out), ["ipv4 127.0.0.1", "end"])
    # (no lookup of a name that does not exist: it would ask the machine's DNS server, off loopback)

    # denied unless granted: with no flag, everything; with a narrower grant, what lies outside it
    port = free_port()
    rc, out, err = run(comp, ["denied", str(port)])
    check(rc == 0, f"denied exit {rc}: {err}")
    expect("no grant", lines(out), DENIED)
    rc, out, err = run(comp, ["denied", str(port)], ["--allow-socket", f"127.0.0.1:{port + 1 if port < 65535 else 1}"])
    expect("narrow grant", lines(out), [
        "tcp start-bind 0.0.0.0:0: access-denied", "start-connect: access-denied", "udp start-bind: access-denied",
        "resolve-addresses: access-denied"])
    # prefixes that do not end on a byte: 127.0.0.1 is in 127.0.0.0/9, not in 128.0.0.0/1
    rc, out, err = run(comp, ["denied", str(port)], ["--allow-socket", "127.0.0.0/9:*"])
    expect("a /9 grant", lines(out), [
        "tcp start-bind 0.0.0.0:0: access-denied", "finish-connect: connection-refused", "udp start-bind: ok",
        "resolve-addresses: access-denied"])
    rc, out, err = run(comp, ["denied", str(port)], ["--allow-socket", "128.0.0.0/1:*"])
    expect("a /1 grant", lines(out), [
        "tcp start-bind 0.0.0.0:0: access-denied", "start-connect: access-denied", "udp start-bind: access-denied",
        "resolve-addresses: access-denied"])
    rc, out, err = run(comp, ["denied", str(port)], ["--inherit-network", "-S", "tcp=n", "-S", "udp=n"])
    expect("tcp=n udp=n", lines(out), DENIED)
    rc, out, err = run(comp, ["lookup", "localhost"], ["--inherit-network"])
    expect("lookup without its grant", lines(out), ["resolve-addresses: access-denied"])
    if SHARED_HOST:
        # the sidecar's way (wg_wasi_p2_define_shared + wg_wasi_p2_new per store): nothing granted
        r = subprocess.run([SHARED_HOST, comp, "--", "denied", str(port)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        check(r.returncode == 0, f"shared_host exit {r.returncode}: {r.stderr.decode()}")
        expect("a sidecar-style context", lines(r.stdout.decode()), DENIED)
        # and an embedder's grant reaches such a context
        srv = EchoServer()
        r = subprocess.run([SHARED_HOST, comp, f"127.0.0.1:{srv.port}", "--", "tcp-echo", str(srv.port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(r.returncode == 0 and "echo: hello, sockets" in lines(r.stdout.decode()),
              f"shared_host with a grant: {r.returncode} {r.stdout.decode()} {r.stderr.decode()}")
    rc, out, err = run(comp, ["denied", str(port)], ["--allow-socket", "300.1.1.1:*"])
    check(rc != 0 and "bad socket address pattern '300.1.1.1:*'" in err, f"a bad pattern: {rc} {err}")
    rc, out, err = run(comp, ["denied", str(port)], ["-S", "nosuch"])
    check(rc == 2 and "unknown -S option" in err, f"an unknown -S: {rc} {err}")

    # hostile use: errors by the spec, never a crash; the last call traps (an enum out of range)
    rc, out, err = run(comp, ["hostile", str(port)], everything)
    expect("hostile", lines(out), [
        "connect ipv4 socket to ::1: invalid-argument", "bind ipv4 socket to ::1: invalid-argument",
        "connect to port 0: invalid-argument", "connect to 0.0.0.0: invalid-argument",
        "finish-connect before start: not-in-progress", "finish-bind before start: not-in-progress",
        "listen unbound: invalid-state", "accept unbound: invalid-state",
        "remote-address unconnected: invalid-state", "local-address unbound: invalid-state",
        "shutdown unconnected: invalid-state", "set-listen-backlog-size 0: invalid-argument",
        "set-hop-limit 0: invalid-argument", "bind 127.0.0.1:0: ok", "bind again while in progress: concurrency-conflict",
        "bind again: invalid-state", "connect a listening socket: invalid-state",
        "accept with nobody waiting: would-block", "finish-connect: connection-refused",
        "connect to a closed port: failed", "connect again: invalid-state", "udp stream unbound: invalid-state",
        "udp local-address unbound: invalid-state", "resolve 'no such name!': invalid-argument"])
    check(rc == 134 and "trap" in err, f"create-tcp-socket(7) should trap: {rc} {err}")

    oracle(comp, port)

    srv = EchoServer()
    rc, out, err = run(comp, ["drop-parent", str(srv.port)], everything)
    check(rc == 134 and "resource has children" in err and "not reached" not in out,
          f"dropping a socket before its streams: {rc} {out} {err}")
    peer = UdpPeer()
    rc, out, err = run(comp, ["unpermitted", str(peer.port)], everything)
    check(rc == 134 and "more datagrams than check-send permitted" in err and "not reached" not in out,
          f"send without check-send: {rc} {out} {err}")
    finish()


if __name__ == "__main__":
    main()
