"""Speech-to-text JSON: segments of text, one line per speaker run.

Shapes read: Whisper and WhisperX ``{"segments": [{"text", "speaker"?}]}``, OpenAI's plain
``{"text": ...}``, AssemblyAI ``{"utterances": [{"speaker", "text"}]}``, Deepgram
``{"results": {"utterances": [{"speaker", "transcript"}]}}`` or its ``channels`` with
paragraphs, AWS Transcribe ``{"results": {"items", "speaker_labels"}}``, and a plain list of
segment objects. Speaker labels are kept as given (``A``, ``SPEAKER_00``, ``spk_0``); bare
numbers become ``Speaker 1``. Without any speaker, each segment is a line of its own.

Parsed with ``json.loads`` only (nothing evaluated); nesting deeper than ``MAX_DEPTH`` is refused
(no speech-to-text output comes near it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from briefqa.reading.formats.common import TranscriptError

from .common import ContainerText, iso_date, one_line
from .decoding import decode_text

MAX_DEPTH = 50
MAX_BYTES = 10_000_000
SHAPES = (
    'Whisper/WhisperX {"segments": [...]}, AssemblyAI {"utterances": [...]}, '
    'Deepgram {"results": {"utterances" or "channels"}}, AWS Transcribe {"results": {"items": [...]}}, '
    'or a list of {"text", "speaker"} objects'
)

Segment = tuple[str | None, str]  # (speaker label, text)


class _ShapeError(Exception):
    pass


def _depth(doc: Any) -> int:
    """How deep lists and objects nest (a stack of its own, no recursion)."""
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _label(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _ShapeError(f"{where}: the speaker is {json.dumps(value)[:40]}, neither a name nor a number")
    label = one_line(str(value))
    if not label:
        return None
    return f"Speaker {label}" if label.isdigit() else label


def _text(item: dict[str, Any], keys: tuple[str, ...], where: str) -> str:
    for key in keys:
        if key in item:
            value = item[key]
            if value is None:
                return ""
            if not isinstance(value, str):
                raise _ShapeError(f"{where}: {key!r} is {type(value).__name__}, not text")
            return one_line(value)
    raise _ShapeError(f"{where}: no {' or '.join(repr(k) for k in keys)}")


def _from_list(items: Any, where: str, text_keys: tuple[str, ...] = ("text", "transcript")) -> list[Segment]:
    if not isinstance(items, list):
        raise _ShapeError(f"{where} is {type(items).__name__}, not a list")
    segments = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise _ShapeError(f"{here} is {type(item).__name__}, not an object with text")
        segments.append((_label(item.get("speaker", item.get("speaker_label")), here), _text(item, text_keys, here)))
    return segments


def _deepgram_channels(channels: Any) -> list[Segment]:
    if not isinstance(channels, list) or not channels or not isinstance(channels[0], dict):
        raise _ShapeError("results.channels is not a list of channels")
    alternatives = channels[0].get("alternatives")
    if not isinstance(alternatives, list) or not alternatives or not isinstance(alternatives[0], dict):
        raise _ShapeError("results.channels[0].alternatives is not a list of alternatives")
    best = alternatives[0]
    paragraphs = best.get("paragraphs")
    if isinstance(paragraphs, dict) and isinstance(paragraphs.get("paragraphs"), list):
        segments = []
        for i, para in enumerate(paragraphs["paragraphs"]):
            where = f"results.channels[0].alternatives[0].paragraphs.paragraphs[{i}]"
            if not isinstance(para, dict):
                raise _ShapeError(f"{where} is not an object")
            texts = [_text(s, ("text",), f"{where}.sentences") for s in _from_dicts(para.get("sentences"), where)]
            segments.append((_label(para.get("speaker"), where), " ".join(t for t in texts if t)))
        return segments
    return [(None, _text(best, ("transcript",), "results.channels[0].alternatives[0]"))]


def _from_dicts(items: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _ShapeError(f"{where}: not a list of objects")
    return items


def _aws(results: dict[str, Any]) -> list[Segment]:
    """AWS Transcribe: words (``items``) with speakers from ``speaker_labels`` (or on each item)."""
    speakers: dict[str, str] = {}
    labels = results.get("speaker_labels")
    if isinstance(labels, dict):
        for seg in _from_dicts(labels.get("segments", []), "results.speaker_labels.segments"):
            for item in _from_dicts(seg.get("items", []), "results.speaker_labels.segments[].items"):
                if isinstance(item.get("start_time"), str) and item.get("speaker_label") is not None:
                    speakers[item["start_time"]] = str(item["speaker_label"])
    items = results.get("items")
    if not items:
        transcripts = _from_dicts(results.get("transcripts"), "results.transcripts")
        return [(None, _text(t, ("transcript",), "results.transcripts[]")) for t in transcripts]
    segments: list[list[Any]] = []  # [speaker, words]
    for i, item in enumerate(_from_dicts(items, "results.items")):
        alternatives = _from_dicts(item.get("alternatives"), f"results.items[{i}].alternatives")
        word = _text(alternatives[0], ("content",), f"results.items[{i}].alternatives[0]") if alternatives else ""
        if not word:
            continue
        if item.get("type") == "punctuation":
            if segments:
                segments[-1][1][-1] += word
            continue
        speaker = _label(item.get("speaker_label", speakers.get(str(item.get("start_time")))), f"results.items[{i}]")
        if not segments or (speaker is not None and speaker != segments[-1][0]):
            segments.append([speaker, []])
        segments[-1][1].append(word)
    return [(speaker, " ".join(words)) for speaker, words in segments]


def _segments(doc: Any) -> list[Segment]:
    if isinstance(doc, list):
        return _from_list(doc, "the list")
    if not isinstance(doc, dict):
        raise _ShapeError(f"the JSON is {type(doc).__name__}, not an object or list")
    if doc.get("segments"):
        return _from_list(doc["segments"], "segments")
    if doc.get("utterances"):
        return _from_list(doc["utterances"], "utterances")
    results = doc.get("results")
    if isinstance(results, dict):
        if results.get("utterances"):
            return _from_list(results["utterances"], "results.utterances")
        if "items" in results or "transcripts" in results:
            return _aws(results)
        if "channels" in results:
            return _deepgram_channels(results["channels"])
    if isinstance(doc.get("text"), str):  # OpenAI's json, or AssemblyAI without speaker labels
        return [(None, one_line(doc["text"]))]
    keys = ", ".join(repr(k) for k in list(doc)[:8])
    raise _ShapeError(f"its top-level keys are {keys or 'none'}")


def _render(segments: list[Segment]) -> str:
    if all(speaker is None for speaker, _ in segments):
        return "\n".join(text for _, text in segments if text)
    lines: list[str] = []
    run: list[str] = []
    current: str | None = None
    for speaker, text in segments:
        if not text:
            continue
        if run and speaker is not None and speaker != current:
            lines.append(f"{current}: {' '.join(run)}" if current else " ".join(run))
            run = []
        if speaker is not None:
            current = speaker  # a segment without a speaker continues the current run
        run.append(text)
    if run:
        lines.append(f"{current}: {' '.join(run)}" if current else " ".join(run))
    return "\n".join(lines)


def _metadata(doc: Any, notes: list[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if not isinstance(doc, dict):
        return metadata
    for key in ("title", "url"):
        if isinstance(doc.get(key), str) and doc[key].strip():
            metadata[key] = one_line(doc[key])
    if "date" in doc:
        day = iso_date(doc["date"])
        if day:
            metadata["date"] = day
        else:
            notes.append(f"ignored the JSON's date {json.dumps(doc['date'])[:40]}: not yyyy-mm-dd")
    return metadata


def read_speech_json(path: Path, data: bytes) -> ContainerText:
    if len(data) > MAX_BYTES:
        raise TranscriptError(path, f"{len(data) / 1e6:.0f} MB of JSON is far more than a transcript; check the file")
    decoded = decode_text(path, data)
    too_deep = f"JSON nested deeper than {MAX_DEPTH} levels; not a speech-to-text file"
    try:
        doc = json.loads(decoded.text)
    except json.JSONDecodeError as err:
        raise TranscriptError(
            path, f"not valid JSON ({err.msg}, column {err.colno}); fix the file or export it again", err.lineno
        ) from None
    except RecursionError:  # nested hundreds deep: Python's parser gives up
        raise TranscriptError(path, too_deep) from None
    except ValueError as err:  # a number of more than 4300 digits
        raise TranscriptError(path, f"not valid JSON ({err}); fix the file or export it again") from None
    if _depth(doc) > MAX_DEPTH:
        raise TranscriptError(path, too_deep)
    try:
        segments = _segments(doc)
    except _ShapeError as err:
        raise TranscriptError(path, f"not a speech-to-text JSON shape ({err}); expected {SHAPES}") from None
    text = _render(segments)
    if not text.strip():
        raise TranscriptError(path, "the JSON holds no transcript text (its segments are empty)")
    notes = decoded.notes
    notes.append(f"{len(segments)} segment{'s' if len(segments) != 1 else ''}")
    return ContainerText(text, "stt-json", decoded.encoding, _metadata(doc, notes), notes)
