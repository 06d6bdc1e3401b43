package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * The server side of one SCRAM-SHA-256 exchange: PgFleet authenticating a client. One instance
 * per connection attempt, confined to one thread (the connection's event loop). Every step is a
 * few HMACs, as long as it is built from a cached {@link ScramVerifier}.
 *
 * <p>States: {@code INITIAL --handleClientFirst--> SERVER_FIRST_SENT --handleClientFinal--> DONE},
 * and {@code FAILED} after any error. A call in any other state throws
 * {@link ScramProtocolException} and fails the exchange.
 *
 * <p>PostgreSQL's rules (protocol chapter, "SASL Authentication", and auth-scram.c):
 * <ul>
 *   <li>the user name in the client-first-message is ignored, the startup packet's user is used
 *       (clients send "n=");</li>
 *   <li>only {@value #MECHANISM} is offered, never -PLUS: the gs2 flag 'p' (client requires
 *       channel binding) is refused; 'y' (client supports binding but thinks the server does not)
 *       is accepted because it is true, we never advertise it (PostgreSQL refuses 'y' only when
 *       it does support binding, i.e. over SSL where it offers SCRAM-SHA-256-PLUS);</li>
 *   <li>authzid ("a=") and mandatory extensions ("m=") are refused, optional extensions ignored;</li>
 *   <li>an unknown user gets a mock exchange (deterministic salt, default iteration count) that
 *       fails at the end exactly like a wrong password.</li>
 * </ul>
 * Messages are handled as bytes (one char per byte internally): the client-first-message-bare
 * enters the AuthMessage byte for byte, even if "n=" is not UTF-8.
 */
public final class ScramServer {

    /** The only SASL mechanism PgFleet offers in AuthenticationSASL. */
    public static final String MECHANISM = Scram.MECHANISM;
    /** Longest client message accepted, in bytes. */
    public static final int MAX_MESSAGE_LENGTH = Scram.MAX_MESSAGE_LENGTH;
    /** We never offer SCRAM-SHA-256-PLUS; if that changes, 'y' must be refused when it is offered. */
    private static final boolean CHANNEL_BINDING_ADVERTISED = false;

    /** Keys of the mock verifier: never used for a successful exchange, only to spend the same work. */
    private static final byte[] MOCK_STORED_KEY = Scram.randomBytes(Scram.KEY_LENGTH);
    private static final byte[] MOCK_SERVER_KEY = Scram.randomBytes(Scram.KEY_LENGTH);

    /** Where the exchange stands. */
    public enum State { INITIAL, SERVER_FIRST_SENT, DONE, FAILED }

    private final String username;
    private final ScramVerifier verifier;
    /** PostgreSQL's state->doomed: a mock exchange, bound to fail with "password authentication failed". */
    private final boolean doomed;
    private final String serverNonce;

    private State state = State.INITIAL;
    private char channelBindingFlag;
    private String clientFirstBare;
    private String clientNonce;
    private String serverFirst;

    ScramServer(String username, ScramVerifier verifier, boolean doomed, String serverNonce) {
        this.username = Objects.requireNonNull(username, "username");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.doomed = doomed;
        this.serverNonce = serverNonce;
    }

    /** An exchange for {@code username} (from the startup packet) against a stored or cached verifier. */
    public static ScramServer forVerifier(String username, ScramVerifier verifier) {
        return new ScramServer(username, verifier, false, Scram.randomNonce());
    }

    /**
     * An exchange for a user configured with a plaintext password. Expensive (runs PBKDF2): prefer
     * {@link #verifierForPlaintext(String, String)} once, cached, then {@link #forVerifier}.
     */
    public static ScramServer forPlaintextPassword(String username, String password) {
        return forVerifier(username, verifierForPlaintext(username, password));
    }

    /**
     * A mock exchange for a user that does not exist: same messages as a real one, with a salt
     * derived from the user name and 4096 iterations, and always an
     * {@link AuthenticationFailedException} at the end, identical to a wrong password's.
     */
    public static ScramServer forUnknownUser(String username) {
        return forUnknownUser(username, ScramMockSalt.processDefault());
    }

    /** As {@link #forUnknownUser(String)} with a fleet-wide salt secret. */
    public static ScramServer forUnknownUser(String username, ScramMockSalt mockSalt) {
        ScramVerifier mock = new ScramVerifier(Scram.DEFAULT_ITERATIONS, mockSalt.saltFor(username),
                MOCK_STORED_KEY, MOCK_SERVER_KEY);
        return new ScramServer(username, mock, true, Scram.randomNonce());
    }

    /**
     * Derives the verifier for a plaintext password from config. Expensive (PBKDF2, 4096 HMACs):
     * run it once per (user, password) on a worker and cache it. The salt is the user's mock salt,
     * so the salt a client sees for a configured user is as stable as an unknown user's, whichever
     * process computed the verifier.
     */
    public static ScramVerifier verifierForPlaintext(String username, String password) {
        return verifierForPlaintext(username, password, ScramMockSalt.processDefault());
    }

    /** As {@link #verifierForPlaintext(String, String)} with a fleet-wide salt secret. */
    public static ScramVerifier verifierForPlaintext(String username, String password, ScramMockSalt salts) {
        return ScramVerifier.fromPassword(password, salts.saltFor(username), Scram.DEFAULT_ITERATIONS);
    }

    /**
     * Checks the mechanism named in SASLInitialResponse.
     *
     * @throws ScramProtocolException as PostgreSQL, if it is not {@value #MECHANISM}
     */
    public static void checkMechanism(String mechanism) {
        if (!MECHANISM.equals(mechanism)) {
            throw new ScramProtocolException("client selected an invalid SASL authentication mechanism");
        }
    }

    public State state() {
        return state;
    }

    /** The startup packet's user this exchange authenticates. */
    public String username() {
        return username;
    }

    /**
     * Handles the client-first-message (SASLInitialResponse data) and returns the
     * server-first-message to send in AuthenticationSASLContinue.
     *
     * @throws ScramProtocolException if malformed or out of order
     */
    public String handleClientFirst(String clientFirstMessage) {
        return clientFirst(fromUtf8(clientFirstMessage));
    }

    /** As {@link #handleClientFirst(String)}, on the raw bytes of the message. */
    public byte[] handleClientFirst(byte[] clientFirstMessage) {
        return ascii(clientFirst(new String(clientFirstMessage, StandardCharsets.ISO_8859_1)));
    }

    /**
     * Handles the client-final-message (SASLResponse data) and returns the server-final-message
     * ("v=...") to send in AuthenticationSASLFinal, before AuthenticationOk.
     *
     * @throws AuthenticationFailedException wrong password or unknown user (28P01)
     * @throws ScramProtocolException         malformed or out of order (08P01)
     */
    public String handleClientFinal(String clientFinalMessage) {
        return clientFinal(fromUtf8(clientFinalMessage));
    }

    /** As {@link #handleClientFinal(String)}, on the raw bytes of the message. */
    public byte[] handleClientFinal(byte[] clientFinalMessage) {
        return ascii(clientFinal(new String(clientFinalMessage, StandardCharsets.ISO_8859_1)));
    }

    private String clientFirst(String m) {
        expect(State.INITIAL, "client-first-message");
        try {
            checkLength(m, "client-first-message");
            // gs2-header: gs2-cbind-flag "," [authzid] ","
            char flag = m.charAt(0);
            switch (flag) {
                case 'n':
                    break;
                case 'y':
                    if (CHANNEL_BINDING_ADVERTISED) {
                        throw new ScramProtocolException("SCRAM channel binding negotiation error",
                                "The client supports SCRAM channel binding but thinks the server does not.  "
                                        + "However, this server does support channel binding.");
                    }
                    break;
                case 'p':
                    throw ScramProtocolException.malformed("The client selected SCRAM-SHA-256 without channel "
                            + "binding, but the SCRAM message includes channel binding data.");
                default:
                    throw ScramProtocolException.malformed("Unexpected channel-binding flag.");
            }
            if (m.length() < 2 || m.charAt(1) != ',') {
                throw ScramProtocolException.malformed("Comma expected after the channel-binding flag.");
            }
            if (m.length() > 2 && m.charAt(2) == 'a') {
                throw new ScramProtocolException("client uses authorization identity, but it is not supported");
            }
            if (m.length() < 3 || m.charAt(2) != ',') {
                throw ScramProtocolException.malformed("Unexpected attribute in client-first-message.");
            }
            ScramAttributes attrs = new ScramAttributes(m, 3, "client-first-message");
            if (attrs.peek() == 'm') {
                throw new ScramProtocolException("client requires an unsupported SCRAM extension");
            }
            attrs.read('n'); // ignored: the startup packet's user name is authoritative
            String nonce = attrs.read('r');
            if (nonce.isEmpty()) {
                throw ScramProtocolException.malformed("Empty nonce in client-first-message.");
            }
            if (!Scram.isPrintable(nonce)) {
                throw ScramProtocolException.malformed("Client nonce contains non-printable characters.");
            }
            while (!attrs.atEnd()) {
                attrs.readAny(); // optional extensions: none supported, ignored as PostgreSQL does
            }
            channelBindingFlag = flag;
            clientFirstBare = m.substring(3);
            clientNonce = nonce;
            serverFirst = "r=" + nonce + serverNonce + ",s=" + verifier.saltBase64() + ",i="
                    + verifier.iterations();
            state = State.SERVER_FIRST_SENT;
            return serverFirst;
        } catch (AuthException e) {
            state = State.FAILED;
            throw e;
        }
    }

    private String clientFinal(String m) {
        expect(State.SERVER_FIRST_SENT, "client-final-message");
        try {
            checkLength(m, "client-final-message");
            ScramAttributes attrs = new ScramAttributes(m, 0, "client-final-message");
            String channelBinding = attrs.read('c');
            // Without channel binding, c= must repeat the gs2 header: "n,," or "y,," (no authzid).
            String expected = channelBindingFlag == 'y' ? Scram.GS2_Y_B64 : Scram.GS2_N_B64;
            if (!expected.equals(channelBinding)) {
                throw new ScramProtocolException(
                        "unexpected SCRAM channel-binding attribute in client-final-message");
            }
            String nonce = attrs.read('r');
            if (!nonce.equals(clientNonce + serverNonce)) {
                throw ScramProtocolException.malformed(
                        "Nonce in client-final-message does not match the server-first-message.");
            }
            int proofStart;
            String proof;
            do { // optional extensions before the proof are ignored
                if (attrs.atEnd()) {
                    throw ScramProtocolException.malformed("Missing proof in client-final-message.");
                }
                proofStart = attrs.position();
                proof = attrs.readAny();
            } while (attrs.lastName() != 'p');
            if (!attrs.atEnd()) {
                throw ScramProtocolException.malformed("Garbage found at the end of client-final-message.");
            }
            byte[] clientProof = Scram.b64DecodeOrNull(proof);
            if (clientProof == null || clientProof.length != Scram.KEY_LENGTH) {
                throw ScramProtocolException.malformed("Malformed proof in client-final-message.");
            }
            String withoutProof = m.substring(0, proofStart - 1);
            byte[] authMessage = Scram.latin1(clientFirstBare + "," + serverFirst + "," + withoutProof);

            // RFC 5802 section 3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), and
            // H(ClientKey) must equal StoredKey. The mock exchange does the same work, then fails.
            byte[] clientSignature = Scram.hmac(verifier.storedKey(), authMessage);
            byte[] clientKey = Scram.xor(clientProof, clientSignature);
            boolean proofOk = MessageDigest.isEqual(Scram.sha256(clientKey), verifier.storedKey());
            if (!proofOk || doomed) {
                throw AuthenticationFailedException.passwordFailed(username);
            }
            byte[] serverSignature = Scram.hmac(verifier.serverKey(), authMessage);
            state = State.DONE;
            return "v=" + Scram.b64(serverSignature);
        } catch (AuthException e) {
            state = State.FAILED;
            throw e;
        }
    }

    private void expect(State expected, String what) {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new ScramProtocolException("unexpected SCRAM message",
                    "Received " + what + " in state " + was + ".");
        }
    }

    /** Length in bytes (one char per byte here), and no NUL as PostgreSQL checks. */
    private static void checkLength(String m, String what) {
        if (m.isEmpty()) {
            throw ScramProtocolException.malformed("The " + what + " is empty.");
        }
        if (m.length() > MAX_MESSAGE_LENGTH) {
            throw ScramProtocolException.malformed(
                    "The " + what + " is longer than " + MAX_MESSAGE_LENGTH + " bytes.");
        }
        if (m.indexOf('\0') >= 0) {
            throw ScramProtocolException.malformed("The " + what + " contains a zero byte.");
        }
    }

    /** A Java string's UTF-8 bytes, one char per byte. */
    private static String fromUtf8(String s) {
        Objects.requireNonNull(s, "message");
        if (s.length() > MAX_MESSAGE_LENGTH) {
            return s; // too long in any encoding: checkLength refuses it without converting it
        }
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return "ScramServer[user=" + username + ", state=" + state + "]";
    }
}
