"""Content problems: what the loader reports to editors, and the exception that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in the content.

    `file` is relative to the content root (``faq/setup/install.yml``), `line` is 1-based
    (0 when the problem is about a file or folder as a whole), `field` is the path of the
    value in the YAML (``plans[2].price_excl_tax``; empty for the whole file). `message`
    says what was expected and what was found, `hint` how to fix it (both Japanese).
    """

    file: str
    line: int
    field: str
    message: str
    hint: str = ""

    def path(self, prefix: str = "") -> str:
        """The file's path with the content folder `prefix` in front: ``content/plans.yml``."""
        return f"{prefix.rstrip('/')}/{self.file}" if prefix else self.file

    def location(self, prefix: str = "") -> str:
        """``prefix/file:line`` as compilers and editors print it."""
        path = self.path(prefix)
        return f"{path}:{self.line}" if self.line else path

    def format(self, prefix: str = "") -> str:
        """``path:line: field: message`` followed by the indented hint."""
        head = f"{self.location(prefix)}: "
        if self.field:
            head += f"{self.field}: "
        text = head + self.message
        if self.hint:
            text += "\n    ヒント: " + self.hint
        return text

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems ordered by file, then line (stable for equal positions)."""
    return sorted(problems, key=lambda p: (p.file, p.line))


class ContentError(Exception):
    """The content has problems; `problems` lists all of them, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        count = len(self.problems)
        first = self.problems[0].format() if self.problems else ""
        super().__init__(f"{count} content problem(s); first: {first}")

    def report(self, prefix: str = "") -> str:
        """Every problem, formatted, one block per problem."""
        return "\n".join(p.format(prefix) for p in self.problems)
