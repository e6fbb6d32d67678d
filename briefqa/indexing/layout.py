"""The index directory: what it holds, and the names of its parts. A plain directory, written
atomically (``briefqa.indexing.writing``), described by its manifest (``manifest``) and checked
when loaded (``store``).

    manifest.json       what built it: briefqa version, model and its sha256, dimension,
                        chunking, FAISS index type, the source files and their hashes, corpus
                        hashes, file sizes, and a fingerprint of what shapes the index
    content.sqlite      briefings, turns, passages (in vector order) and the parsed transcripts
                        (briefqa.indexing.content: its schema)
    vectors.faiss       the FAISS index of the passages' embeddings (inner product = cosine)
    sentences.npy       the embeddings of the passages' sentences (half precision), and which
    sentences.starts.npy  are whose (briefqa.indexing.vectors.SentenceVectors)
    bm25/               the BM25 matrix of the same passages (briefqa.indexing.bm25; JSON and .npy)
    onnx/               the query encoder: the model exported to ONNX, and its tokenizer

A build writes a new directory beside the target and swaps it in with one atomic rename; a
failed or interrupted build leaves the previous index as it was. A build only ever replaces an
index briefqa made (or an empty directory): ``index_target`` refuses anything else, and follows
a symbolic link to the directory it names. The manifest records each file's sha256, checked
before a build keeps an index as it is and by ``verify_index``. Nothing here is unpickled.
"""

from __future__ import annotations

from briefqa.indexing.content import CONTENT

FORMAT_VERSION = 7  # 4: sentence vectors; 5: file digests in the manifest, passage digests in content;
# 6: content schema 3 (source URLs, languages, collections, readers, outlets, speaker_names), BM25 per language;
# 7: sentences from a segmenter that knows abbreviations (briefqa.reading.sentences), passages of whole sentences


# A build reuses the vectors of an index of these formats; a search reads only FORMAT_VERSION.
REUSABLE_FORMATS = (4, 5, 6, 7)


MANIFEST = "manifest.json"


VECTORS = "vectors.faiss"


SENTENCES = "sentences.npy"


SENTENCE_STARTS = "sentences.starts.npy"


BM25_DIR = "bm25"


ONNX_DIR = "onnx"


# A built index is never committed by accident.
_GITIGNORE_MARK = "# built by briefqa"


_GITIGNORE = f"{_GITIGNORE_MARK}; rebuild with 'briefqa index build'\n*\n!.gitignore\n"


# What a build writes into an index directory (and nothing else): a directory holding anything
# more holds the user's files too, which a build, replacing the whole directory, would delete.
INDEX_ENTRIES = {MANIFEST, CONTENT, VECTORS, SENTENCES, SENTENCE_STARTS, BM25_DIR, ONNX_DIR, ".gitignore"}
