package dev.pgfleet.router;

import java.util.List;

/**
 * PgFleet's comment hints, collected from the block comments {@link SqlLexer} skips. Only real
 * comments count: the same text inside a string constant or after {@code --} is ignored.
 */
final class CommentHints implements SqlLexer.CommentListener {
    /** From {@code pgfleet_role}; null when none. */
    Route role;
    /** From {@code pgfleet_shard}, {@code shard_id} or {@code shard}; -1 when none. */
    int shard = -1;
    /** From {@code pgfleet_sharding_key} or {@code sharding_key}; null when none. */
    String shardingKey;

    /**
     * {@code /* key: value, key = value *}{@code /}. Keys: {@code pgfleet_role} (primary, replica,
     * any; auto and default mean no hint), {@code pgfleet_shard}, {@code shard_id}, {@code shard}
     * (PgCat), {@code pgfleet_sharding_key}, {@code sharding_key} (PgCat). The first hint of a kind
     * wins; unknown keys and bad values are ignored.
     */
    @Override
    public void blockComment(CharSequence s, int bodyStart, int bodyEnd) {
        int colon = -1;
        for (int i = bodyStart; i < bodyEnd; i++) {
            char c = s.charAt(i);
            if (c == ':' || c == '=') {
                colon = i;
                break;
            }
        }
        if (colon < 0) {
            return;
        }
        int i = bodyStart;
        while (i < bodyEnd) {
            char c = s.charAt(i);
            if (!(SqlLexer.isIdentStart(c) || SqlLexer.isDigit(c))) {
                i++;
                continue;
            }
            int keyStart = i;
            while (i < bodyEnd && (SqlLexer.isIdentStart(s.charAt(i)) || SqlLexer.isDigit(s.charAt(i)))) {
                i++;
            }
            int keyEnd = i;
            while (i < bodyEnd && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= bodyEnd || (s.charAt(i) != ':' && s.charAt(i) != '=')) {
                continue;
            }
            i++;
            while (i < bodyEnd && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            int valueStart;
            int valueEnd;
            if (i < bodyEnd && (s.charAt(i) == '\'' || s.charAt(i) == '"')) {
                char quote = s.charAt(i);
                valueStart = ++i;
                while (i < bodyEnd && s.charAt(i) != quote) {
                    i++;
                }
                valueEnd = i;
                if (i < bodyEnd) {
                    i++;
                }
            } else {
                valueStart = i;
                while (i < bodyEnd && !Character.isWhitespace(s.charAt(i)) && s.charAt(i) != ','
                        && s.charAt(i) != '*') {
                    i++;
                }
                valueEnd = i;
            }
            hint(s, keyStart, keyEnd, valueStart, valueEnd);
        }
    }

    private void hint(CharSequence s, int keyStart, int keyEnd, int valueStart, int valueEnd) {
        if (valueStart >= valueEnd) {
            return;
        }
        int key = HINT_KEYS.find(s, keyStart, keyEnd, hashFolded(s, keyStart, keyEnd), true);
        switch (key) {
            case HINT_ROLE:
                if (role == null) {
                    int v = HINT_ROLES.find(s, valueStart, valueEnd, hashFolded(s, valueStart, valueEnd), true);
                    role = v == 0 ? Route.PRIMARY : v == 1 ? Route.REPLICA : v == 2 ? Route.ANY : null;
                }
                break;
            case HINT_SHARD:
            case HINT_SHARD_ID:
            case HINT_SHARD_PGCAT:
                if (shard < 0) {
                    shard = StatementScanner.parseShard(s, valueStart, valueEnd);
                }
                break;
            case HINT_SHARDING_KEY:
            case HINT_SHARDING_KEY_PGCAT:
                if (shardingKey == null) {
                    shardingKey = s.subSequence(valueStart, valueEnd).toString();
                }
                break;
            default:
                break;
        }
    }

    private static int hashFolded(CharSequence s, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = NameSet.hashStep(h, NameSet.fold(s.charAt(i)));
        }
        return h;
    }

    private static final int HINT_ROLE = 0, HINT_SHARD = 1, HINT_SHARD_ID = 2, HINT_SHARD_PGCAT = 3,
            HINT_SHARDING_KEY = 4, HINT_SHARDING_KEY_PGCAT = 5;
    private static final NameSet HINT_KEYS = new NameSet(List.of(
            "pgfleet_role", "pgfleet_shard", "shard_id", "shard", "pgfleet_sharding_key", "sharding_key"));
    private static final NameSet HINT_ROLES = new NameSet(List.of("primary", "replica", "any"));
}
