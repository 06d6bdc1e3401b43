package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * The client side of one SCRAM-SHA-256 exchange: PgFleet authenticating to a PostgreSQL server.
 * One instance per backend connection attempt, confined to one thread at a time.
 *
 * <p>The work is split so that only PBKDF2 leaves the event loop:
 * <ol>
 *   <li>{@link #clientFirstMessage()} (cheap) goes in SASLInitialResponse;</li>
 *   <li>{@link #parseServerFirst(String)} (cheap) validates AuthenticationSASLContinue's data:
 *       our nonce prefix, salt, iteration count at most {@link #MAX_ITERATIONS};</li>
 *   <li>{@link #saltedPassword(String, byte[], int)} (expensive, static, thread-safe): run it on a
 *       worker. Its result depends only on (password, salt, iterations), which a PostgreSQL role
 *       keeps until its password changes, so it can be cached per backend credential;</li>
 *   <li>{@link #clientFinalMessage(ServerFirst, byte[])} (cheap) goes in SASLResponse;</li>
 *   <li>{@link #verifyServerFinal(String)} (cheap) checks AuthenticationSASLFinal's data.</li>
 * </ol>
 * {@link #clientFinalMessage(String, String)} does steps 2 to 4 at once, for tests and workers.
 *
 * <p>As libpq: gs2 header "n,," (no channel binding, no authzid), empty user name "n=" (the
 * server uses the startup packet's), an 18-byte random nonce.
 */
public final class ScramClient {

    /**
     * Most PBKDF2 iterations we accept from a server. PostgreSQL's default is 4096; a hostile or
     * misconfigured server could otherwise make us burn seconds of CPU per connection.
     */
    public static final int MAX_ITERATIONS = 1_000_000;

    private static final String GS2_HEADER = "n,,";

    /** Where the exchange stands. */
    public enum State { INITIAL, CLIENT_FIRST_SENT, SERVER_FIRST_RECEIVED, CLIENT_FINAL_SENT, DONE, FAILED }

    private final String clientFirstBare;
    private final String clientNonce;
    private State state = State.INITIAL;
    private ServerFirst serverFirst;
    private byte[] expectedServerSignature;

    public ScramClient() {
        this("", Scram.randomNonce());
    }

    /** For test vectors: a given user name (SCRAM "saslname", already escaped) and nonce. */
    ScramClient(String saslName, String clientNonce) {
        this.clientNonce = clientNonce;
        this.clientFirstBare = "n=" + saslName + ",r=" + clientNonce;
    }

    /** The validated content of a server-first-message, produced by {@link #parseServerFirst}. */
    public static final class ServerFirst {
        private final String message;
        private final String nonce;
        private final byte[] salt;
        private final int iterations;

        private ServerFirst(String message, String nonce, byte[] salt, int iterations) {
            this.message = message;
            this.nonce = nonce;
            this.salt = salt;
            this.iterations = iterations;
        }

        /** Client nonce followed by the server's part. */
        public String nonce() {
            return nonce;
        }

        public byte[] salt() {
            return salt.clone();
        }

        public int iterations() {
            return iterations;
        }

        @Override
        public String toString() {
            return "ServerFirst[iterations=" + iterations + ", salt=" + Scram.b64(salt) + "]";
        }
    }

    public State state() {
        return state;
    }

    /** The client-first-message, e.g. {@code n,,n=,r=fyko+d2lbbFgONRv9qkxdawL}. */
    public String clientFirstMessage() {
        expect(State.INITIAL, "client-first-message");
        state = State.CLIENT_FIRST_SENT;
        return GS2_HEADER + clientFirstBare;
    }

    /**
     * Parses and checks the server-first-message. Cheap.
     *
     * @throws ScramProtocolException if malformed, if the nonce does not extend ours, or if the
     *                                iteration count is above {@link #MAX_ITERATIONS}
     */
    public ServerFirst parseServerFirst(String serverFirstMessage) {
        expect(State.CLIENT_FIRST_SENT, "server-first-message");
        try {
            checkServerMessage(serverFirstMessage, "server-first-message");
            ScramAttributes attrs = new ScramAttributes(serverFirstMessage, 0, "server-first-message");
            if (attrs.peek() == 'm') {
                throw new ScramProtocolException("server requires an unsupported SCRAM extension");
            }
            String nonce = attrs.read('r');
            if (nonce.length() <= clientNonce.length() || !nonce.startsWith(clientNonce)
                    || !Scram.isPrintable(nonce)) {
                throw ScramProtocolException.malformed(
                        "The server's nonce does not extend the client nonce (nonce mismatch).");
            }
            byte[] salt = Scram.b64DecodeOrNull(attrs.read('s'));
            if (salt == null || salt.length == 0) {
                throw ScramProtocolException.malformed("Invalid salt in server-first-message.");
            }
            String iterText = attrs.read('i');
            if (iterText.isEmpty() || !iterText.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw ScramProtocolException.malformed("Invalid iteration count in server-first-message.");
            }
            long iterations = iterText.length() > 18 ? Long.MAX_VALUE : Long.parseLong(iterText);
            if (iterations < 1) {
                throw ScramProtocolException.malformed("Invalid iteration count in server-first-message.");
            }
            checkIterations(iterations);
            while (!attrs.atEnd()) {
                attrs.readAny(); // optional extensions (RFC 5802 section 7): none supported, ignored
            }
            serverFirst = new ServerFirst(serverFirstMessage, nonce, salt, (int) iterations);
            state = State.SERVER_FIRST_RECEIVED;
            return serverFirst;
        } catch (AuthException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /**
     * SaltedPassword = Hi(SASLprep(password), salt, iterations), PBKDF2-HMAC-SHA-256. Expensive:
     * call it on a worker thread, never on an event loop. Thread-safe.
     *
     * @throws ScramProtocolException if {@code iterations} is above {@link #MAX_ITERATIONS}
     */
    public static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        checkIterations(iterations);
        return Scram.hi(SaslPrep.passwordBytes(password), salt, iterations);
    }

    /**
     * The client-final-message with our proof. Cheap: a few HMACs.
     *
     * @param serverFirst    what {@link #parseServerFirst} returned on this client
     * @param saltedPassword {@link #saltedPassword} of the password with its salt and iterations
     */
    public String clientFinalMessage(ServerFirst serverFirst, byte[] saltedPassword) {
        expect(State.SERVER_FIRST_RECEIVED, "client-final-message");
        if (serverFirst != this.serverFirst) {
            state = State.FAILED;
            throw new IllegalArgumentException("ServerFirst was not parsed by this ScramClient");
        }
        String withoutProof = "c=" + Scram.GS2_N_B64 + ",r=" + serverFirst.nonce;
        byte[] authMessage = (clientFirstBare + "," + serverFirst.message + "," + withoutProof)
                .getBytes(StandardCharsets.UTF_8);
        byte[] clientKey = Scram.clientKey(saltedPassword);
        byte[] storedKey = Scram.sha256(clientKey);
        byte[] clientSignature = Scram.hmac(storedKey, authMessage);
        byte[] proof = Scram.xor(clientKey, clientSignature);
        expectedServerSignature = Scram.hmac(Scram.serverKey(saltedPassword), authMessage);
        state = State.CLIENT_FINAL_SENT;
        return withoutProof + ",p=" + Scram.b64(proof);
    }

    /**
     * Steps 2 to 4 in one call, including PBKDF2: expensive, not for an event loop.
     */
    public String clientFinalMessage(String serverFirstMessage, String password) {
        ServerFirst first = parseServerFirst(serverFirstMessage);
        return clientFinalMessage(first, saltedPassword(password, first.salt, first.iterations));
    }

    /**
     * Checks the server-final-message: the server must prove it knows the verifier.
     *
     * @throws AuthenticationFailedException if the server sent "e=..." (its error is in the
     *                                       message and {@link AuthException#detail()}) or a wrong
     *                                       signature
     * @throws ScramProtocolException         if malformed or out of order
     */
    public void verifyServerFinal(String serverFinalMessage) {
        expect(State.CLIENT_FINAL_SENT, "server-final-message");
        try {
            checkServerMessage(serverFinalMessage, "server-final-message");
            ScramAttributes attrs = new ScramAttributes(serverFinalMessage, 0, "server-final-message");
            if (attrs.peek() == 'e') {
                String error = attrs.read('e');
                throw new AuthenticationFailedException(
                        "error received from server in SCRAM exchange: " + error, error);
            }
            byte[] signature = Scram.b64DecodeOrNull(attrs.read('v'));
            if (signature == null || signature.length != Scram.KEY_LENGTH) {
                throw ScramProtocolException.malformed("Malformed server signature in server-final-message.");
            }
            while (!attrs.atEnd()) {
                attrs.readAny(); // optional extensions, ignored
            }
            if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
                throw new AuthenticationFailedException("incorrect server signature",
                        "The server could not prove that it knows the password; it may be an impostor.");
            }
            state = State.DONE;
        } catch (AuthException e) {
            state = State.FAILED;
            throw e;
        }
    }

    private static void checkIterations(long iterations) {
        if (iterations > MAX_ITERATIONS) {
            throw new ScramProtocolException("SCRAM iteration count from server is too high",
                    "The server asked for more than " + MAX_ITERATIONS + " PBKDF2 iterations, PgFleet's limit.");
        }
    }

    /** The server's messages are printable ASCII by RFC 5802's grammar. */
    private static void checkServerMessage(String m, String what) {
        Objects.requireNonNull(m, what);
        if (m.isEmpty() || m.length() > Scram.MAX_MESSAGE_LENGTH) {
            throw ScramProtocolException.malformed("The " + what + " is empty or too long.");
        }
        for (int i = 0; i < m.length(); i++) {
            char c = m.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw ScramProtocolException.malformed("The " + what + " contains a non-ASCII character.");
            }
        }
    }

    private void expect(State expected, String what) {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new ScramProtocolException("unexpected SCRAM message",
                    "Tried to handle " + what + " in state " + was + ".");
        }
    }

    @Override
    public String toString() {
        return "ScramClient[state=" + state + "]";
    }
}
