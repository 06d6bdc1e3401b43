package dev.pgfleet.proxy;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.SocketFactory;

/**
 * pgjdbc's {@code socketFactory}: plain sockets that count, on the client's side, the bytes the
 * clients wrote and read, and the frontend messages they sent by type (a startup packet first,
 * then typed messages), so a test can compare PgFleet's counters with what really crossed.
 */
public final class CountingSocketFactory extends SocketFactory {

    static final AtomicLong WRITTEN = new AtomicLong();
    static final AtomicLong READ = new AtomicLong();
    /** Frontend messages sent, by type byte. */
    static final AtomicLong[] SENT = new AtomicLong[256];

    static {
        for (int i = 0; i < SENT.length; i++) {
            SENT[i] = new AtomicLong();
        }
    }

    static void reset() {
        WRITTEN.set(0);
        READ.set(0);
        for (AtomicLong a : SENT) {
            a.set(0);
        }
    }

    static long sent(char type) {
        return SENT[type].get();
    }

    @Override
    public Socket createSocket() {
        return new CountingSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = new CountingSocket();
        s.connect(new java.net.InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket(host.getHostAddress(), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return createSocket(address.getHostAddress(), port);
    }

    private static final class CountingSocket extends Socket {
        private InputStream in;
        private OutputStream out;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                in = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            READ.incrementAndGet();
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            READ.addAndGet(n);
                        }
                        return n;
                    }
                };
            }
            return in;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                out = new FilterOutputStream(super.getOutputStream()) {
                    /** Bytes of the current header (type + int32, or the startup packet's int32). */
                    private final byte[] header = new byte[5];
                    private int have;
                    private long skip;
                    private boolean startup = true;

                    @Override
                    public void write(int b) throws IOException {
                        out.write(b);
                        WRITTEN.incrementAndGet();
                        parse((byte) b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                        WRITTEN.addAndGet(len);
                        for (int i = 0; i < len; i++) {
                            parse(b[off + i]);
                        }
                    }

                    private void parse(byte b) {
                        if (skip > 0) {
                            skip--;
                            return;
                        }
                        header[have++] = b;
                        int need = startup ? 4 : 5;
                        if (have < need) {
                            return;
                        }
                        int at = startup ? 0 : 1;
                        int length = ((header[at] & 0xFF) << 24) | ((header[at + 1] & 0xFF) << 16) | ((header[at + 2] & 0xFF) << 8)
                            | (header[at + 3] & 0xFF);
                        if (!startup) {
                            SENT[header[0] & 0xFF].incrementAndGet();
                        }
                        skip = length - 4;
                        startup = false;
                        have = 0;
                    }
                };
            }
            return out;
        }
    }
}
