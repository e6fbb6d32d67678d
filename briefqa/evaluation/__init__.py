"""Measuring retrieval: question sets, metrics, floors and baselines (``evaluate``), and the
speed and size benchmark (``bench``)."""
