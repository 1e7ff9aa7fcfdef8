"""Text out of attachments: documents, mail, archives and, through OCR, pictures of text.

One entry point, :func:`extract`, takes a file's name and bytes and returns an
:class:`Extraction`: the text in located :class:`Section` values (pages,
sheets, slides), the kind sniffed, whether and how confidently text was read
by OCR, nested members (zip members, mail attachments: each with its name,
size and SHA-256, extracted in turn), and :class:`Problem` values (encrypted,
corrupt, unsupported, oversized, OCR missing). No exception escapes for bad
input. One module per kind, each over a well-kept library:

========  =======================================  ======================
kind      module                                   library
========  =======================================  ======================
PDF       :mod:`discovery.extract.pdf`             pypdf; pypdfium2 renders pages for OCR
DOCX      :mod:`discovery.extract.word`            python-docx
XLSX      :mod:`discovery.extract.sheet`           openpyxl
PPTX      :mod:`discovery.extract.slides`          python-pptx
HTML      :mod:`discovery.extract.markup`          beautifulsoup4 (the HTML importer's layout)
text/CSV  :mod:`discovery.extract.plain`           the importers' UTF-8 rules
EML       :mod:`discovery.extract.mail`            the standard library's ``email``
MSG       :mod:`discovery.extract.outlook`         extract-msg
zip       :mod:`discovery.extract.zips`            ``zipfile``, under ``discovery.archive``'s limits
images    :mod:`discovery.extract.image`           Pillow (pillow-heif for HEIC); OCR by Tesseract
========  =======================================  ======================

The library knows nothing of the ingest or the CLI; see docs/ATTACHMENTS.md
for what the ingest will make of an Extraction (family members).
"""

from discovery.extract.core import extract
from discovery.extract.model import (
    Extraction,
    Kind,
    OcrMode,
    Options,
    Problem,
    ProblemCode,
    Section,
)
from discovery.extract.ocr import INSTALL as OCR_INSTALL

__all__ = [
    "OCR_INSTALL",
    "Extraction",
    "Kind",
    "OcrMode",
    "Options",
    "Problem",
    "ProblemCode",
    "Section",
    "extract",
]
