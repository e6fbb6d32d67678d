"""Answering a question from an index: load it and search (``index``), read what the question
says besides its words (``cues``), rank and fuse passages (``rankings``), and cite the results with
a confidence and the answering sentence (``cite``)."""
