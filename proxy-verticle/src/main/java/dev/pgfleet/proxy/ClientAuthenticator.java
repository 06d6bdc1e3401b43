package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.AuthException;
import dev.pgfleet.shared.auth.AuthenticationFailedException;
import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.auth.ScramServer;
import dev.pgfleet.shared.auth.ScramVerifier;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Authenticates a client with SCRAM-SHA-256 or md5, as a strict state machine: after the
 * request it sends, only the one PasswordMessage-family ('p') message it expects is taken;
 * the session closes the connection on anything else. An unknown user runs the same
 * exchange as a known one and fails with the same 28P01 (PostgreSQL's mock authentication),
 * so a client cannot tell which users exist.
 */
final class ClientAuthenticator {

    private enum State { SASL_INITIAL, SASL_FINAL, MD5, DONE }

    private final String username;
    private final String md5Secret;
    private ScramServer scram;
    private byte[] md5Salt;
    private State state;

    private ClientAuthenticator(String username, String md5Secret) {
        this.username = username;
        this.md5Secret = md5Secret;
    }

    /** SCRAM-SHA-256 against a verifier, or against nothing for an unknown user. */
    static ClientAuthenticator scram(String username, ScramVerifier verifierOrNull) {
        ClientAuthenticator a = new ClientAuthenticator(username, null);
        a.scram = verifierOrNull != null ? ScramServer.forVerifier(username, verifierOrNull) : ScramServer.forUnknownUser(username);
        a.state = State.SASL_INITIAL;
        return a;
    }

    /** md5 against a plaintext password or "md5..." hash; null for an unknown user. */
    static ClientAuthenticator md5(String username, String passwordOrHashOrNull) {
        ClientAuthenticator a = new ClientAuthenticator(username, passwordOrHashOrNull);
        a.md5Salt = Md5Auth.randomSalt();
        a.state = State.MD5;
        return a;
    }

    /** The first authentication request to send. */
    void begin(ByteBuf out) {
        if (state == State.MD5) {
            BackendMessages.authenticationMd5(out, md5Salt);
        } else {
            BackendMessages.authenticationSasl(out, List.of(ScramServer.MECHANISM));
        }
    }

    /**
     * Takes a 'p' message at [offset, offset + length); writes the next request into out.
     *
     * @return true when the client is authenticated (AuthenticationOk is the caller's to send)
     * @throws PgException 28P01 for a wrong password or unknown user, 08P01 for a malformed message
     */
    boolean onPasswordMessage(ByteBuf buf, int offset, int length, ByteBuf out) {
        int body = offset + 5;
        int end = offset + length;
        try {
            switch (state) {
                case MD5 -> {
                    int nul = buf.indexOf(body, end, (byte) 0);
                    if (nul != end - 1) {
                        throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid password packet size");
                    }
                    String response = buf.toString(body, nul - body, StandardCharsets.UTF_8);
                    state = State.DONE;
                    if (!Md5Auth.verify(md5Secret, username, md5Salt, response)) {
                        throw passwordFailed();
                    }
                    return true;
                }
                case SASL_INITIAL -> {
                    int nul = buf.indexOf(body, end, (byte) 0);
                    if (nul < 0 || nul + 5 > end) {
                        throw new PgException(SqlState.PROTOCOL_VIOLATION, "malformed SASLInitialResponse message");
                    }
                    ScramServer.checkMechanism(buf.toString(body, nul - body, StandardCharsets.UTF_8));
                    int dataLength = buf.getInt(nul + 1);
                    int data = nul + 5;
                    if (dataLength < 0 || dataLength != end - data) {
                        throw new PgException(SqlState.PROTOCOL_VIOLATION, "malformed SASLInitialResponse message: bad data length");
                    }
                    byte[] first = new byte[dataLength];
                    buf.getBytes(data, first);
                    BackendMessages.authenticationSaslContinue(out, scram.handleClientFirst(first));
                    state = State.SASL_FINAL;
                    return false;
                }
                case SASL_FINAL -> {
                    byte[] fin = new byte[end - body];
                    buf.getBytes(body, fin);
                    state = State.DONE;
                    BackendMessages.authenticationSaslFinal(out, scram.handleClientFinal(fin));
                    return true;
                }
                default -> throw new PgException(SqlState.PROTOCOL_VIOLATION, "unexpected password message");
            }
        } catch (AuthenticationFailedException e) {
            state = State.DONE;
            throw passwordFailed();
        } catch (AuthException e) {
            state = State.DONE;
            throw new PgException(e.sqlState(), e.getMessage(), e.detail(), true);
        }
    }

    private PgException passwordFailed() {
        return new PgException(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + username + "\"");
    }
}
