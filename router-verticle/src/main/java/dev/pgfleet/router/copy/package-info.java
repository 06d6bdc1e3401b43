/**
 * Splitting the data of {@code COPY table (columns) FROM STDIN} into rows, for sending each row to
 * the shard its key belongs to.
 *
 * <p>{@link dev.pgfleet.router.copy.CopyRowReader} is the public surface: it is fed the payloads of
 * the client's CopyData messages and hands each row, with the value of its sharding key column, to
 * a sink. It reads the three COPY file formats (text, csv, binary) as PostgreSQL's
 * {@code src/backend/commands/copyfromparse.c} does. {@link dev.pgfleet.router.copy.CopyFormatException}
 * is its error, the proxy's ErrorResponse 22P04 (bad_copy_file_format). The rest is package-private.
 */
package dev.pgfleet.router.copy;
