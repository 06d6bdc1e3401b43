#!/usr/bin/env python3
"""Prints the columns (name:type OID) of every SHOW of a PgBouncer-style admin console.

Speaks the v3 protocol over a plain socket with md5 or cleartext authentication, so that it
needs nothing but Python, and reads RowDescription as the server sent it (psql's \\gdesc would
need the extended protocol, which PgBouncer's console does not have).

  show_columns.py HOST PORT USER PASSWORD DATABASE COMMAND...

One line per command: "COMMAND<TAB>name:oid,name:oid,..." or "COMMAND<TAB>ERROR <sqlstate>".
"""
import hashlib
import socket
import struct
import sys


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("connection closed")
        out += chunk
    return out


def read_msg(s):
    head = recv_exact(s, 5)
    typ, length = head[:1], struct.unpack("!i", head[1:])[0]
    return typ, recv_exact(s, length - 4)


def send(s, typ, body):
    s.sendall(typ + struct.pack("!i", len(body) + 4) + body)


def fields(body):
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode()
    return out


def login(host, port, user, password, database):
    s = socket.create_connection((host, port), timeout=10)
    params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    body = struct.pack("!i", 196608) + params
    s.sendall(struct.pack("!i", len(body) + 4) + body)
    while True:
        typ, body = read_msg(s)
        if typ == b"R":
            code = struct.unpack("!i", body[:4])[0]
            if code == 5:
                salt = body[4:8]
                inner = hashlib.md5(password.encode() + user.encode()).hexdigest()
                outer = hashlib.md5(inner.encode() + salt).hexdigest()
                send(s, b"p", b"md5" + outer.encode() + b"\0")
            elif code == 3:
                send(s, b"p", password.encode() + b"\0")
            elif code != 0:
                raise SystemExit("authentication method %d is not supported here (use md5)" % code)
        elif typ == b"E":
            raise SystemExit("login failed: %s" % fields(body))
        elif typ == b"Z":
            return s


def columns(s, command):
    send(s, b"Q", ("SHOW " + command).encode() + b"\0")
    result = None
    while True:
        typ, body = read_msg(s)
        if typ == b"T":
            n = struct.unpack("!h", body[:2])[0]
            pos, cols = 2, []
            for _ in range(n):
                end = body.index(b"\0", pos)
                name = body[pos:end].decode()
                oid = struct.unpack("!i", body[end + 7:end + 11])[0]
                cols.append("%s:%d" % (name, oid))
                pos = end + 1 + 18
            result = ",".join(cols)
        elif typ == b"E":
            result = "ERROR " + fields(body).get("C", "?")
        elif typ == b"Z":
            return result


def main():
    host, port, user, password, database = sys.argv[1:6]
    s = login(host, int(port), user, password, database)
    for command in sys.argv[6:]:
        print("%s\t%s" % (command, columns(s, command)))
    send(s, b"X", b"")
    s.close()


if __name__ == "__main__":
    main()
