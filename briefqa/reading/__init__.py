"""Reading transcripts: find the files (``corpus``), read one as text with its sidecar
(``files``), parse it with the reader of its layout (``formats``), give each turn its role and each
answer its question (``turns``), and split turns into passages with offsets (``passages``)."""
