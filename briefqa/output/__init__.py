"""How results read: text for a terminal, Markdown quotes, CSV rows and JSON (``render``)."""
