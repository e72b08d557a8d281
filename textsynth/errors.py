"""The exception types whose message is shown to users as a one-line error, with their exit status."""


class TextsynthError(Exception):
    """A problem with the user's input, explained in one line; the CLI prints it and exits 2."""

    exit_code = 2


class DatasetError(TextsynthError):
    """A dataset (or a render's output) that is damaged, hostile or could not be written, explained in one
    line that names the dataset or shard; the CLI prints it and exits 1."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C (exit 130) or SIGTERM (exit 143); `note` says what is true of its output
    afterwards (None: the command's usual note)."""

    def __init__(self, exit_code: int = 130, note: str | None = None):
        super().__init__(note or "")
        self.exit_code = exit_code
        self.note = note

    def noted(self, note: str) -> "Interrupted":
        return Interrupted(self.exit_code, note)
