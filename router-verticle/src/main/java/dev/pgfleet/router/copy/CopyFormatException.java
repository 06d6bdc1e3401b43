package dev.pgfleet.router.copy;

/**
 * COPY data that PostgreSQL would reject while reading it ({@code ERRCODE_BAD_COPY_FILE_FORMAT},
 * SQLSTATE {@value #SQLSTATE}): a row with too few or too many fields, an unterminated CSV quoted
 * field, a line end that does not match the first line's, a bad binary signature or field count.
 * The message is PostgreSQL's wording where PostgreSQL has one.
 */
public final class CopyFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    /** bad_copy_file_format, the SQLSTATE PostgreSQL's COPY FROM reports for all of these. */
    public static final String SQLSTATE = "22P04";

    private final String hint;

    public CopyFormatException(String message) {
        this(message, null);
    }

    /** With PostgreSQL's hint (the ErrorResponse's H field), e.g. "Use \"\\n\" to represent newline.". */
    public CopyFormatException(String message, String hint) {
        super(message);
        this.hint = hint;
    }

    /** PostgreSQL's hint for this error, or null. */
    public String hint() {
        return hint;
    }
}
