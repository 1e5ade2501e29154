"""matplotlib for `--plot` options: loaded only when asked, headless, errors for people."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.errors import InputError


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or a clear message naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise InputError(
            "--plot needs matplotlib, which is not installed.",
            "Install it with: pip install 'vatio[plot]'",
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure: Any, path: Path | str) -> None:
    """Write the figure and free it; an unwritable path is the user's to fix, not a crash."""
    import matplotlib.pyplot as plt

    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise InputError(f"Cannot write the plot {str(path)!r}: {error.strerror}.") from None
    finally:
        plt.close(figure)


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: Path | str | None, store: str | None = None) -> Path | None:
    """Before any work: the plot can be written there, as PNG/SVG/PDF, and matplotlib is here."""
    if path is None:
        return None
    from vatio.userfiles import check_output_path

    checked = check_output_path(path, "plot", protect=[store], suffixes=PLOT_SUFFIXES)
    pyplot()
    return checked
