package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.AuthException;
import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.auth.ScramClient;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.ParameterStatus;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.ServerError;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PgFleet logging in to a server: StartupMessage, then the authentication the server asks
 * for (trust, cleartext, md5, SCRAM-SHA-256), ParameterStatus and BackendKeyData, until
 * ReadyForQuery. A strict state machine: a message the phase does not expect fails the login.
 *
 * <p>SCRAM's key derivation (PBKDF2, thousands of HMACs) runs on a worker thread, never on
 * the event loop, and its result is cached per password, salt and iteration count, since a
 * server keeps one salt per role: new connections to a server then cost two HMACs.
 */
final class ServerStartup {

    private static final Map<String, byte[]> SALTED_PASSWORDS = new ConcurrentHashMap<>();

    private enum State { AUTH, SCRAM_CONTINUE, SCRAM_FINAL, AUTHENTICATED, DONE }

    private final ServerConnection conn;
    private final ServerTarget target;
    private final Promise<ServerConnection> result;
    private State state = State.AUTH;
    private ScramClient scram;
    private int pid;
    private int secret;

    ServerStartup(ServerConnection conn, Promise<ServerConnection> result) {
        this.conn = conn;
        this.target = conn.target();
        this.result = result;
    }

    void begin(Map<String, String> parameters) {
        ByteBuf out = alloc(256);
        FrontendMessages.startupMessage(out, parameters);
        send(out);
    }

    int onMessage(byte type, ByteBuf buf, int offset, int length) {
        if (state == State.DONE) {
            return MessageFramer.CONSUME;
        }
        try {
            switch (type) {
                case PgProtocol.AUTHENTICATION_RESPONSE -> onAuthentication(buf, offset, length);
                case PgProtocol.PARAMETER_STATUS_RESPONSE -> {
                    expect(State.AUTHENTICATED, type);
                    ParameterStatus p = ParameterStatus.decode(buf, offset, length);
                    conn.parameters().put(p.name(), p.value());
                }
                case PgProtocol.BACKEND_KEY_DATA_RESPONSE -> {
                    expect(State.AUTHENTICATED, type);
                    pid = buf.getInt(offset + 5);
                    secret = length >= 13 ? buf.getInt(offset + 9) : 0;
                }
                case PgProtocol.NOTICE_RESPONSE, PgProtocol.NEGOTIATE_PROTOCOL_VERSION_RESPONSE -> {
                    // Informational during login.
                }
                case PgProtocol.ERROR_RESPONSE -> fail(ServerConnection.loginError(target, ServerError.decode(buf, offset, length)));
                case PgProtocol.READY_FOR_QUERY_RESPONSE -> {
                    expect(State.AUTHENTICATED, type);
                    state = State.DONE;
                    conn.startupDone(pid, secret);
                    result.tryComplete(conn);
                }
                default -> throw unexpected(type);
            }
        } catch (PgException e) {
            fail(e);
        } catch (AuthException e) {
            fail(new PgException(e.sqlState(), "server " + target.host() + ":" + target.port() + ": " + e.getMessage()));
        }
        return MessageFramer.CONSUME;
    }

    private void onAuthentication(ByteBuf buf, int offset, int length) {
        int code = buf.getInt(offset + 5);
        int body = offset + 9;
        int end = offset + length;
        switch (code) {
            case PgProtocol.AUTH_OK -> {
                if (state != State.AUTH && state != State.SCRAM_FINAL) {
                    throw unexpected(PgProtocol.AUTHENTICATION_RESPONSE);
                }
                state = State.AUTHENTICATED;
            }
            case PgProtocol.AUTH_CLEARTEXT_PASSWORD -> {
                expect(State.AUTH, PgProtocol.AUTHENTICATION_RESPONSE);
                sendPassword(requirePassword());
            }
            case PgProtocol.AUTH_MD5_PASSWORD -> {
                expect(State.AUTH, PgProtocol.AUTHENTICATION_RESPONSE);
                if (end - body != 4) {
                    throw new PgException(SqlState.PROTOCOL_VIOLATION, "malformed md5 authentication request from server");
                }
                byte[] salt = new byte[4];
                buf.getBytes(body, salt);
                sendPassword(Md5Auth.md5Response(requirePassword(), target.user(), salt));
            }
            case PgProtocol.AUTH_SASL -> {
                expect(State.AUTH, PgProtocol.AUTHENTICATION_RESPONSE);
                String mechanisms = buf.toString(body, end - body, StandardCharsets.UTF_8);
                if (!mechanisms.contains("SCRAM-SHA-256\0")) {
                    throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "server " + target.host() + ":" + target.port()
                        + " offers no SASL mechanism PgFleet supports");
                }
                requirePassword();
                scram = new ScramClient();
                ByteBuf out = alloc(128);
                FrontendMessages.saslInitialResponse(out, "SCRAM-SHA-256", scram.clientFirstMessage());
                state = State.SCRAM_CONTINUE;
                send(out);
            }
            case PgProtocol.AUTH_SASL_CONTINUE -> {
                expect(State.SCRAM_CONTINUE, PgProtocol.AUTHENTICATION_RESPONSE);
                state = State.SCRAM_FINAL;
                ScramClient.ServerFirst first = scram.parseServerFirst(buf.toString(body, end - body, StandardCharsets.UTF_8));
                String key = target.password() + '\0' + java.util.Base64.getEncoder().encodeToString(first.salt())
                    + '\0' + first.iterations();
                byte[] cached = SALTED_PASSWORDS.get(key);
                if (cached != null) {
                    sendScramFinal(first, cached);
                } else {
                    conn.context().<byte[]>executeBlocking(
                            () -> ScramClient.saltedPassword(target.password(), first.salt(), first.iterations()), false)
                        .onComplete(ar -> {
                            if (ar.failed()) {
                                fail(new PgException(SqlState.INTERNAL_ERROR, "SCRAM key derivation failed: " + ar.cause().getMessage()));
                                return;
                            }
                            if (SALTED_PASSWORDS.size() < 10_000) {
                                SALTED_PASSWORDS.put(key, ar.result());
                            }
                            try {
                                sendScramFinal(first, ar.result());
                            } catch (AuthException e) {
                                fail(new PgException(e.sqlState(), e.getMessage()));
                            }
                        });
                }
            }
            case PgProtocol.AUTH_SASL_FINAL -> {
                expect(State.SCRAM_FINAL, PgProtocol.AUTHENTICATION_RESPONSE);
                scram.verifyServerFinal(buf.toString(body, end - body, StandardCharsets.UTF_8));
            }
            default -> throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "server " + target.host() + ":" + target.port()
                + " asks for authentication method " + code + ", which PgFleet does not support");
        }
    }

    private void sendScramFinal(ScramClient.ServerFirst first, byte[] saltedPassword) {
        if (state == State.DONE) {
            return;
        }
        ByteBuf out = alloc(256);
        FrontendMessages.saslResponse(out, scram.clientFinalMessage(first, saltedPassword));
        send(out);
    }

    private String requirePassword() {
        if (target.password() == null) {
            throw new PgException(SqlState.INVALID_PASSWORD, "server " + target.host() + ":" + target.port()
                + " asks for a password and none is configured for user " + target.user());
        }
        return target.password();
    }

    private void sendPassword(String password) {
        ByteBuf out = alloc(password.length() + 8);
        FrontendMessages.passwordMessage(out, password);
        send(out);
    }

    private ByteBuf alloc(int size) {
        return io.netty.buffer.PooledByteBufAllocator.DEFAULT.buffer(size);
    }

    private void send(ByteBuf out) {
        conn.write(out);
        conn.flush();
    }

    private void expect(State expected, byte type) {
        if (state != expected) {
            throw unexpected(type);
        }
    }

    private PgException unexpected(byte type) {
        return new PgException(SqlState.PROTOCOL_VIOLATION, "server " + target.host() + ":" + target.port()
            + " sent an unexpected message '" + (char) type + "' during login");
    }

    private void fail(PgException e) {
        if (state != State.DONE) {
            state = State.DONE;
            result.tryFail(e);
            conn.close();
        }
    }

    void connectionClosed() {
        if (state != State.DONE) {
            state = State.DONE;
            result.tryFail(new PgException(SqlState.CONNECTION_FAILURE, "server " + target.host() + ":" + target.port()
                + " closed the connection during login"));
        }
    }
}
