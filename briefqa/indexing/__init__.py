"""Building and storing an index: embed passages (``embed``), build or add to an index
(``build``, with a ``checkpoint`` to resume from), and the directory it writes (``store``): the
content in SQLite (``content``), the vectors in FAISS (``vectors``), the BM25 matrix (``bm25``).
``verify`` checks a whole index. Nothing here ranks or answers a question."""
