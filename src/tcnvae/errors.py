"""The base of every error a user can cause; the CLI turns one into a single line and exit 1."""


class TcnvaeError(Exception):
    """A user-caused problem; the message names the file, field or index at fault."""


def one_of(items: object, conj: str = "or") -> str:
    """Choices in plain words for a message: `ax, ay or az` (never a Python list or tuple)."""
    words = [str(i) for i in items]  # type: ignore[union-attr]
    if not words:
        return "none"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {conj} " + words[-1]


def units_in_words(table: dict) -> str:
    """{"acc": {"m/s^2": 1, "g": 9.8}, ...} -> `acc: m/s^2 or g; gyro: rad/s or deg/s; ...`."""
    return "; ".join(f"{group}: {one_of(units)}" for group, units in table.items())
