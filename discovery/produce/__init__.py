"""Productions (PRODUCT.md §6): selected messages sliced into Bates-numbered documents.

One module per job: :mod:`.slices` (selection into family-complete slices),
:mod:`.document` (withholding), :mod:`.bates`, :mod:`.transcript` (the lines a
document shows), :mod:`.pdf` and :mod:`.fonts`, :mod:`.rsmf`,
:mod:`.loadfiles`, :mod:`.privlog`, :mod:`.manifest`, :mod:`.files`
(byte-identical writing) and :mod:`.production`, which runs them in order.
"""
