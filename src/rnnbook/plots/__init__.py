"""Plot functions: each takes a compute result and returns a matplotlib Figure.

One module per topic; ``common`` holds what they share, ``style`` the book's one style (applied
on import) and ``cells`` the cell diagrams.
"""

from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow
from rnnbook.plots.style import BOOK_STYLE, use_book_style

use_book_style()

__all__ = ["BOOK_STYLE", "OVERFLOW_COLOR", "new_figure", "semilogy_with_overflow",
           "use_book_style"]
