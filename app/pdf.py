"""PDF pages with the bundled DejaVu Sans, so every Vietnamese letter renders and can be
copied or searched as text.

fpdf2 (and the font tools it pulls in) costs ~40 MB and most of a second to import, so only
the modules that draw PDFs import this one, and they are imported when a PDF is asked for.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent / "records" / "fonts"


class DejaVuPDF(FPDF):
    """An FPDF document with DejaVu Sans regular and bold registered as "DejaVu"."""

    def __init__(self, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
