"""The one exception type whose message is shown to users as a one-line error."""


class TextsynthError(Exception):
    """A problem with the user's input or data, explained in one line; the CLI prints it and exits 2."""
