import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Opens N PostgreSQL client connections, logs each one in, and holds them idle: the load for
 * the "memory per idle client" measurement of bench/run. Single file, JDK only:
 * {@code java bench/IdleClients.java --port 16442 --clients 10000 ...}.
 *
 * <p>Speaks just enough of the v3 protocol: StartupMessage, AuthenticationOk,
 * AuthenticationCleartextPassword (3) and AuthenticationMD5Password (5), then reads until
 * ReadyForQuery. SCRAM is not implemented: the benchmark pools use md5 for this test.
 * Non-blocking, one selector thread, at most {@code --in-flight} logins at once so the
 * listen backlog of the pooler is not the bottleneck.
 *
 * <p>Prints {@code LOGGED_IN ready=R failed=F pending=P} once every connection is logged in,
 * failed, or the login timeout passed, then holds the connections until {@code --release-file}
 * exists (or {@code --hold} seconds pass), and exits.
 */
public final class IdleClients {

    private static final int STARTUP = 0, AUTH = 1, READY = 2, FAILED = 3;

    static final class Conn {
        final SocketChannel ch;
        int state = STARTUP;
        ByteBuffer out;
        ByteBuffer in = ByteBuffer.allocate(512);
        String error;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>(Map.of(
                "--host", "127.0.0.1", "--port", "6432", "--user", "bench", "--password", "bench",
                "--database", "bench", "--clients", "10000", "--in-flight", "100", "--timeout", "60",
                "--hold", "600", "--release-file", ""));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!o.containsKey(args[i])) {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
            o.put(args[i], args[i + 1]);
        }
        String host = o.get("--host"), user = o.get("--user"), password = o.get("--password"), db = o.get("--database");
        int port = Integer.parseInt(o.get("--port"));
        int clients = Integer.parseInt(o.get("--clients"));
        int inFlightMax = Integer.parseInt(o.get("--in-flight"));
        long deadline = System.nanoTime() + Long.parseLong(o.get("--timeout")) * 1_000_000_000L;
        byte[] startup = startupMessage(user, db);

        Selector selector = Selector.open();
        List<Conn> all = new ArrayList<>(clients);
        int opened = 0, inFlight = 0, ready = 0, failed = 0;
        Map<String, Integer> errors = new HashMap<>();
        while (ready + failed < clients && System.nanoTime() < deadline) {
            while (opened < clients && inFlight < inFlightMax) {
                SocketChannel ch = SocketChannel.open();
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Conn c = new Conn(ch);
                all.add(c);
                c.out = ByteBuffer.wrap(startup);
                ch.connect(new InetSocketAddress(host, port));
                ch.register(selector, SelectionKey.OP_CONNECT, c);
                opened++;
                inFlight++;
            }
            selector.select(100);
            for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                Conn c = (Conn) key.attachment();
                int before = c.state;
                try {
                    step(key, c, user, password);
                } catch (IOException | RuntimeException e) {
                    c.state = FAILED;
                    c.error = String.valueOf(e.getMessage());
                }
                if (c.state != before && (c.state == READY || c.state == FAILED)) {
                    inFlight--;
                    if (c.state == READY) {
                        ready++;
                        key.interestOps(0);
                    } else {
                        failed++;
                        errors.merge(c.error, 1, Integer::sum);
                        key.cancel();
                        c.ch.close();
                    }
                }
            }
        }
        System.out.println("LOGGED_IN ready=" + ready + " failed=" + failed + " pending=" + (clients - ready - failed));
        errors.forEach((e, n) -> System.out.println("  error x" + n + ": " + e));
        System.out.flush();

        String release = o.get("--release-file");
        long holdUntil = System.nanoTime() + Long.parseLong(o.get("--hold")) * 1_000_000_000L;
        int closedByPeer = 0;
        for (SelectionKey key : selector.keys()) {
            if (key.isValid() && ((Conn) key.attachment()).state == READY) {
                key.interestOps(SelectionKey.OP_READ);
            }
        }
        while (System.nanoTime() < holdUntil && (release.isEmpty() || !Files.exists(Path.of(release)))) {
            // Keep reading so a pooler that closes idle clients is noticed, not hidden.
            selector.select(200);
            for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                if (key.isValid() && key.isReadable()) {
                    Conn c = (Conn) key.attachment();
                    c.in.clear();
                    if (c.ch.read(c.in) < 0) {
                        closedByPeer++;
                        key.cancel();
                    }
                }
            }
        }
        System.out.println("RELEASED closed_by_server=" + closedByPeer);
        for (Conn c : all) {
            try {
                c.ch.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private static void step(SelectionKey key, Conn c, String user, String password) throws IOException {
        if (key.isConnectable()) {
            c.ch.finishConnect();
            key.interestOps(SelectionKey.OP_WRITE);
            return;
        }
        if (key.isWritable()) {
            c.ch.write(c.out);
            if (!c.out.hasRemaining()) {
                c.out = null;
                if (c.state == STARTUP) {
                    c.state = AUTH;
                }
                key.interestOps(SelectionKey.OP_READ);
            }
            return;
        }
        if (!key.isReadable()) {
            return;
        }
        if (c.ch.read(c.in) < 0) {
            throw new IOException("connection closed by server during login");
        }
        c.in.flip();
        while (c.in.remaining() >= 5) {
            int start = c.in.position();
            byte type = c.in.get(start);
            int len = c.in.getInt(start + 1);
            if (c.in.remaining() < len + 1) {
                if (len + 1 > c.in.capacity()) {
                    ByteBuffer bigger = ByteBuffer.allocate(len + 1);
                    bigger.put(c.in);
                    c.in = bigger;
                    return;
                }
                break;
            }
            ByteBuffer msg = c.in.slice(start + 5, len - 4);
            c.in.position(start + 1 + len);
            switch (type) {
                case 'R' -> {
                    int code = msg.getInt(0);
                    if (code == 3) {
                        send(key, c, passwordMessage(password));
                    } else if (code == 5) {
                        byte[] salt = new byte[4];
                        msg.get(4, salt);
                        send(key, c, passwordMessage(md5Password(user, password, salt)));
                    } else if (code != 0) {
                        throw new IOException("authentication method " + code + " not supported (configure md5)");
                    }
                }
                case 'E' -> throw new IOException("ErrorResponse: " + errorText(msg));
                case 'Z' -> {
                    c.state = READY;
                    c.in = ByteBuffer.allocate(64);
                    return;
                }
                default -> {
                    // ParameterStatus, BackendKeyData, NoticeResponse: not needed
                }
            }
        }
        c.in.compact();
    }

    private static void send(SelectionKey key, Conn c, byte[] bytes) throws IOException {
        c.out = ByteBuffer.wrap(bytes);
        c.ch.write(c.out);
        if (c.out.hasRemaining()) {
            key.interestOps(SelectionKey.OP_WRITE);
        } else {
            c.out = null;
        }
    }

    private static byte[] startupMessage(String user, String db) {
        ByteBuffer b = ByteBuffer.allocate(512);
        b.putInt(0).putInt(196608);
        for (String s : new String[] {"user", user, "database", db, "application_name", "idle-clients"}) {
            b.put(s.getBytes(StandardCharsets.UTF_8)).put((byte) 0);
        }
        b.put((byte) 0);
        b.putInt(0, b.position());
        byte[] out = new byte[b.position()];
        b.get(0, out);
        return out;
    }

    private static byte[] passwordMessage(String password) {
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + p.length + 1);
        b.put((byte) 'p').putInt(4 + p.length + 1).put(p).put((byte) 0);
        return b.array();
    }

    /** "md5" + md5hex(md5hex(password + user) + salt), as PostgreSQL's AuthenticationMD5Password. */
    static String md5Password(String user, String password, byte[] salt) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            String inner = hex(md.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            md.update(inner.getBytes(StandardCharsets.US_ASCII));
            md.update(salt);
            return "md5" + hex(md.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte x : bytes) {
            sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }

    private static String errorText(ByteBuffer msg) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < msg.limit() && msg.get(i) != 0) {
            byte field = msg.get(i++);
            int start = i;
            while (i < msg.limit() && msg.get(i) != 0) {
                i++;
            }
            if (field == 'C' || field == 'M') {
                sb.append(sb.length() == 0 ? "" : " ").append(new String(msg.array(), msg.arrayOffset() + start, i - start,
                        StandardCharsets.UTF_8));
            }
            i++;
        }
        return sb.toString();
    }
}
