#!/usr/bin/env python3
"""QMP client of the QEMU boot test (images/qemu-smoke): screendumps, touches, quit.

  qmp.py SOCKET screendump FILE.ppm
  qmp.py SOCKET touch X Y            X, Y: 0..1 across the display (a tap: press and release)
  qmp.py SOCKET quit

Talks to QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off); exit 1 naming the error
QEMU returned, 2 for bad usage.
"""
import json
import socket
import sys
import time

ABS_MAX = 0x7FFF  # the virtio tablet's axis range in QEMU


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.read()  # greeting
        self.call("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self.read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    sock, cmd, args = argv[1], argv[2], argv[3:]
    try:
        q = Qmp(sock)
        if cmd == "screendump" and len(args) == 1:
            q.call("screendump", filename=args[0])
        elif cmd == "touch" and len(args) == 2:
            x, y = (min(max(float(a), 0.0), 1.0) for a in args)
            pos = [
                {"type": "abs", "data": {"axis": "x", "value": round(x * ABS_MAX)}},
                {"type": "abs", "data": {"axis": "y", "value": round(y * ABS_MAX)}},
            ]
            q.call("input-send-event", events=pos)
            time.sleep(0.2)
            q.call("input-send-event", events=pos + [{"type": "btn", "data": {"down": True, "button": "left"}}])
            time.sleep(0.2)
            q.call("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])
        elif cmd == "quit" and not args:
            q.call("quit")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OSError, RuntimeError, ValueError) as e:
        print(f"qmp.py: {cmd}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
