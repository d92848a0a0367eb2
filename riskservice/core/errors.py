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


class UnapprovedKnowledge(RuntimeError):
    """The strict switch is on and a result used knowledge entries below ``approved``.

    ``entries`` maps each such entry id to its review status.
    """

    def __init__(self, entries):
        self.entries = dict(entries)
        names = ", ".join(f"{k} ({v})" for k, v in self.entries.items())
        super().__init__(
            f"REQUIRE_APPROVED is on and this result would use {len(self.entries)} knowledge "
            f"entr{'y' if len(self.entries) == 1 else 'ies'} not approved by clinical review: {names}")
