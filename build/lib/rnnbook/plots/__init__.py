"""Plot functions: each takes a compute result and returns a matplotlib Figure.

One module per topic; ``common`` holds what they share.
"""

from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow

__all__ = ["OVERFLOW_COLOR", "new_figure", "semilogy_with_overflow"]
