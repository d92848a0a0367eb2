"""Exceptions the core raises; adapters translate them into their own error formats."""


class KnowledgeError(RuntimeError):
    """A knowledge file is missing, malformed, uncited or inconsistent: refuse to start."""


class ValidationProblem(ValueError):
    """Input that cannot be scored. ``errors`` maps each field to all of its problems."""

    def __init__(self, errors, title="Invalid patient data"):
        super().__init__(title)
        self.title = title
        self.errors = {key: list(msgs) for key, msgs in errors.items()}

    def __str__(self):
        parts = [f"{field}: {'; '.join(map(str, msgs))}" for field, msgs in sorted(self.errors.items())]
        return f"{self.title}: " + " | ".join(parts)
