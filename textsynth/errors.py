"""The exception types whose message is shown to users as a one-line error, with their exit status."""


class TextsynthError(Exception):
    """A problem with the user's input, explained in one line; the CLI prints it and exits 2."""

    exit_code = 2


class DatasetError(TextsynthError):
    """A dataset (or a render's output) that is damaged, hostile or could not be written, explained in one
    line that names the dataset or shard; the CLI prints it and exits 1."""

    exit_code = 1
