"""Interactive explorers of the book, one module per topic; each is built on `cnnbook.explorer`."""
