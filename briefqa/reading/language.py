"""A transcript's language, from how often each language's commonest words occur.

Transcripts run to thousands of words, so counting function words is as sure as a language
model and needs no download. Languages: those the BM25 stemmer supports and transcripts come in.
"""

from __future__ import annotations

import re
from collections import Counter

_COMMON = {
    "en": "the and of to is that we in it for this are with have be on not you our will",
    "es": "el la de que y los en las por con una para es del se no lo al como más pero sus",
    "fr": "le la les de des et est que une pour nous dans pas du au qui sur ce il sont",
    "pt": "o a os de que e do da em para com uma não no na por mais as dos se",
    "de": "der die und das ist nicht mit den sich des auf für ein eine wir zu von dem im",
    "it": "il di che e la per un una non sono è del della le con nel gli si",
}
_WORDS = {lang: set(words.split()) for lang, words in _COMMON.items()}
_TOKEN = re.compile(r"\w+")
STEMMER_LANGUAGES = {"en": "english", "es": "spanish", "fr": "french", "pt": "portuguese", "de": "german",
                     "it": "italian"}  # fmt: skip


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language among those known; 'en' when it cannot tell."""
    counts = Counter(w for w in _TOKEN.findall(text.lower()))
    scores = {lang: sum(counts[w] for w in words) for lang, words in _WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    if scores[best] < 5 or scores[best] <= scores["en"] * 1.2:
        return "en"
    return best
