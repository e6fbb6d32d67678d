"""Containers (briefqa.reading.containers): any transcript file's bytes to the text a reader parses.

Inputs are made by hand inside the tests (a PDF too), plus the six real GPO hearing pages in
../shared/corpora/more-transcripts beside the clone."""

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from briefqa.reading.containers import CONTAINER_SUFFIXES, ContainerText, read_container
from briefqa.reading.files import read_transcript_text
from briefqa.reading.formats.common import TranscriptError
from tests.conftest import CORPUS, FIXTURES, ROOT, shared_file

GPO = ROOT.parent / "shared" / "corpora" / "more-transcripts" / "us-congress-hearings-gpo"
GPO_FILES = [
    "CHRG-110shrg50410.htm",
    "CHRG-110shrg50415.htm",
    "CHRG-111hhrg46820.htm",
    "CHRG-111hhrg53241.htm",
    "CHRG-111hhrg53242.htm",
    "CHRG-111hhrg72887.htm",
]


def read(tmp_path: Path, name: str, data: bytes | str) -> ContainerText:
    """Write the bytes to tmp_path/name and read them twice: the same bytes give the same text."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    first = read_container(path, path.read_bytes())
    assert read_container(path, path.read_bytes()) == first
    return first


def refused(tmp_path: Path, name: str, data: bytes | str) -> TranscriptError:
    with pytest.raises(TranscriptError) as caught:
        read(tmp_path, name, data)
    assert "Traceback" not in str(caught.value)
    return caught.value


def gpo_file(name: str) -> Path:
    return shared_file(GPO / name, "GPO")


def test_suffixes():
    assert isinstance(CONTAINER_SUFFIXES, frozenset)
    assert sorted(CONTAINER_SUFFIXES) == [".htm", ".html", ".json", ".markdown", ".md", ".pdf", ".srt", ".txt", ".vtt"]


# --- text and Markdown: exactly what read_transcript_text gives -----------------------------------

UTF8_SAMPLES = [
    "MS. PSAKI:  Hi, everyone.\n",
    "\ufeffMS. PSAKI: with a BOM\r\nand CRLF\r\n",
    "old Mac\rline endings\r\rand a lone CR\n",
    "  indented\u00a0\u00a0non-breaking\t tabs  \n\n\ntrailing   \n",
    "Yu Jianhua: 中国 — “quotes” café\n\x1a",
    "---\ntitle: A\n---\n\nMR. X: <b>not HTML</b> in Markdown\n",
]


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@pytest.mark.parametrize("sample", UTF8_SAMPLES)
def test_utf8_text_is_read_as_read_transcript_text_reads_it(tmp_path, suffix, sample):
    result = read(tmp_path, "t" + suffix, sample)
    assert result.text == read_transcript_text(tmp_path / ("t" + suffix))
    assert result.container == ("text" if suffix == ".txt" else "markdown")
    assert result.encoding == ("utf-8-sig" if sample.startswith("\ufeff") else "utf-8")
    assert result.notes == [] and result.metadata == {}


def test_every_bundled_transcript_reads_as_before():
    files = [p for p in [*CORPUS.rglob("*"), *FIXTURES.rglob("*")] if p.suffix in {".txt", ".md"}]
    assert len(files) >= 7
    for path in files:
        assert read_container(path, path.read_bytes()).text == read_transcript_text(path), path


# --- encodings -------------------------------------------------------------------------------------


def test_windows_1252_round_trip(tmp_path):
    text = "MR. LEE: Le café coûte 3 € – “vraiment”.\r\nQ Merci.\r\n"
    result = read(tmp_path, "w.txt", text.encode("cp1252"))
    assert result.text == text.replace("\r\n", "\n")
    assert result.encoding == "windows-1252"
    assert result.notes == ["decoded as windows-1252 (not UTF-8; detected by charset-normalizer)"]
    assert result.text.encode(result.encoding).decode(result.encoding) == result.text


@pytest.mark.parametrize("word", ["café", "naïve façade", "crème brûlée, déjà vu"])
def test_short_western_text_is_windows_1252_not_a_guess(tmp_path, word):
    # charset-normalizer alone calls b"caf\xe9" UTF-16-BE and French text cp1250 ("crčme")
    result = read(tmp_path, "s.txt", word.encode("cp1252"))
    assert (result.text, result.encoding) == (word, "windows-1252")


def test_cyrillic_windows_1251_is_detected(tmp_path):
    text = "Пресс-конференция министра иностранных дел. Вопрос: когда?\n" * 3
    result = read(tmp_path, "r.txt", text.encode("cp1251"))
    assert (result.text, result.encoding) == (text, "windows-1251")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    text = "MR. X: café\r\nQ Why?\r\n"
    data = ("\ufeff" + text).encode(codec) if codec != "utf-16" else text.encode(codec)
    result = read(tmp_path, "u.txt", data)
    assert result.text == "MR. X: café\nQ Why?\n"
    assert result.encoding == "utf-16"
    assert "decoded as utf-16" in result.notes[0]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_known_by_its_nul_bytes(tmp_path, codec):
    text = "MR. X: café, and a longer line of text.\n"
    result = read(tmp_path, "u.md", text.encode(codec))
    assert (result.text, result.encoding, result.container) == (text, codec, "markdown")


def test_utf8_bom_is_dropped(tmp_path):
    result = read(tmp_path, "b.txt", b"\xef\xbb\xbfMR. X: hi\n")
    assert (result.text, result.encoding, result.notes) == ("MR. X: hi\n", "utf-8-sig", [])


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",  # NUL bytes, not UTF-16
        bytes(range(1, 256)) * 3,  # control characters throughout, no NUL
        b"\xef\xbb\xbfUTF-8 with a NUL\x00 byte",
    ],
)
def test_binary_files_are_refused(tmp_path, data):
    err = refused(tmp_path, "bin.txt", data)
    assert "this is a binary file" in err.reason and "remove it" in err.reason


@pytest.mark.parametrize("name", ["e.txt", "e.md", "e.html", "e.vtt", "e.srt", "e.json", "e.pdf"])
@pytest.mark.parametrize("data", [b"", b" \n\r\n\t"])
def test_empty_files_are_refused(tmp_path, name, data):
    assert refused(tmp_path, name, data).reason == "the file is empty; remove it or put a transcript in it"


# --- HTML ------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head>
<title>Briefing | Site</title>
<meta property="og:title" content="  Press briefing, 20 March  ">
<meta name="date" content="2023-03-20T09:00:00Z">
<link rel="canonical" href="https://example.gov/briefing/1">
<style>p { color: red }</style>
<script>document.write("never shown")</script>
</head>
<body>
<header>Site header</header><nav><ul><li>Home</li></ul></nav>
<h1>Press   briefing</h1>
<p>MS. PSAKI:&nbsp;Hi,
   everyone. Fish &amp; chips &lt;3</p>
<p>Q <b>Why</b> <i>now</i>?<br>Second line</p>
<p>&nbsp;</p>
<ul><li>one</li><li>two</li></ul>
<table><tr><th>MR. A:</th><td>cell one</td></tr><tr><td>MR. B:</td><td>cell two</td></tr></table>
<pre>
  MR. C.  verbatim
     indented

after a blank</pre>
<!-- a comment -->
<form><input value="x">Search</form>
<aside>Related</aside><noscript>Enable JS</noscript><svg><text>svg</text></svg>
<div hidden>hidden text</div>
<footer>Footer text</footer>
</body></html>
"""


def test_html_text_has_one_line_per_block(tmp_path):
    result = read(tmp_path, "p.html", PAGE)
    assert result.text.split("\n") == [
        "Press briefing",
        "MS. PSAKI:\u00a0Hi, everyone. Fish & chips <3",
        "Q Why now?",
        "Second line",
        "one",
        "two",
        "MR. A: cell one",
        "MR. B: cell two",
        "  MR. C.  verbatim",
        "     indented",
        "",
        "after a blank",
    ]
    assert result.container == "html" and result.encoding == "utf-8"
    assert result.metadata == {
        "title": "Press briefing, 20 March",
        "date": "2023-03-20",
        "url": "https://example.gov/briefing/1",
    }


def test_html_title_without_og_title_and_gpo_dash(tmp_path):
    result = read(tmp_path, "t.htm", "<html><title> - A HEARING</title><body><p>Text</p></body></html>")
    assert result.metadata == {"title": "A HEARING"}


def test_html_date_that_is_no_date_is_noted(tmp_path):
    result = read(tmp_path, "d.html", '<meta name="DC.date" content="March 2023"><p>Text</p>')
    assert "date" not in result.metadata
    assert any("not yyyy-mm-dd" in note for note in result.notes)


def test_html_main_content_is_preferred_when_it_holds_most_text(tmp_path):
    transcript = "<p>MS. PSAKI: " + "word " * 100 + "</p>"
    page = f"<html><body><div>Sidebar links</div><main>{transcript}</main><div>More links</div></body></html>"
    result = read(tmp_path, "m.html", page)
    assert result.text.startswith("MS. PSAKI: word") and "Sidebar" not in result.text
    assert any("<main>" in note for note in result.notes)
    small = "<html><body><div>" + "body text " * 50 + "</div><article><p>teaser</p></article></body></html>"
    result = read(tmp_path, "s.html", small)
    assert result.text.startswith("body text") and result.text.endswith("teaser")


def test_txt_that_is_html_is_read_as_html(tmp_path):
    result = read(tmp_path, "page.txt", "\n  <!doctype HTML><html><body><p>MR. X: hi</p><p>Q Why?</p></body></html>")
    assert result.container == "html" and result.text == "MR. X: hi\nQ Why?"
    assert "an HTML page, although named .txt" in result.notes


def test_html_declared_charset_is_used(tmp_path):
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 \x96 \x93ok\x94</p></body></html>'
    result = read(tmp_path, "c.html", page.encode("latin-1"))
    assert result.text == "Café – “ok”" and result.encoding == "windows-1252"
    assert "declared by the page's <meta charset>" in result.notes[0]


def test_html_nested_thousands_deep_is_read(tmp_path):
    page = "<body>" + "<div><span>" * 5000 + "MR. X: deep" + "</span></div>" * 5000 + "<p>after</p></body>"
    assert read(tmp_path, "deep.html", page).text == "MR. X: deep\nafter"


def test_html_without_visible_text_is_refused(tmp_path):
    err = refused(tmp_path, "x.html", "<html><head><script>load()</script></head><body><nav>menu</nav></body></html>")
    assert "the page shows no text" in err.reason


@pytest.mark.parametrize("name", GPO_FILES)
def test_gpo_hearings_keep_their_pre_text_verbatim(name):
    path = gpo_file(name)
    data = path.read_bytes()
    result = read_container(path, data)
    assert read_container(path, data) == result
    assert result.container == "html" and result.encoding == "utf-8"
    assert result.metadata["title"].isupper() and not result.metadata["title"].startswith("-")
    assert "dropped 1 Ctrl-Z (DOS end-of-file mark)" in result.notes
    # the <pre> text as it stands: the newline after <pre> and the Ctrl-Z before </pre> dropped,
    # and 46820's closing "<all>" (GPO's end mark, unescaped, so a tag to a parser)
    pre = data.decode("utf-8").split("<pre>\n", 1)[1].rsplit("</pre>", 1)[0]
    assert result.text + "\n" == pre.replace("\x1a", "").replace("<all>", "")
    lines = result.text.split("\n")
    assert lines[0] in ("[Senate Hearing 110-1008]", "[Senate Hearing 110-1013]", "[House Hearing, 111 Congress]")
    assert lines[1] == "[From the U.S. Government Printing Office]"
    assert any(line.startswith("    Mr. ") or line.startswith("    Chairman ") for line in lines)


@pytest.mark.parametrize("name", ["CHRG-110shrg50410.htm", "CHRG-110shrg50415.htm"])
def test_gpo_senate_hearings_open_with_chairman_dodd(name):
    path = gpo_file(name)
    text = read_container(path, path.read_bytes()).text
    assert "\n    Chairman Dodd. The Committee will come to order." in text


def test_gpo_replacement_characters_are_kept():
    path = gpo_file("CHRG-111hhrg53242.htm")
    assert "(202) 512\ufffd091800" in read_container(path, path.read_bytes()).text


# --- PDF -------------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], info: bytes | None = None) -> bytes:
    """A minimal PDF written by hand: one Helvetica text object a page, lines set with T*."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        escaped = [line.replace("(", "\\(").replace(")", "\\)") for line in lines]
        shown = [f"({line}) Tj T*" for line in escaped]
        stream = "\n".join(["BT /F1 12 Tf 14 TL 72 720 Td", *shown, "ET"]).encode("latin-1") if lines else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if info:
        objects.append(info)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"<< /Size %d /Root 1 0 R%s >>" % (len(objects) + 1, b" /Info %d 0 R" % len(objects) if info else b"")
    out += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


BRIEFING_PDF = [["MR. SMITH: Good morning (all).", "Q Thank you."], [], ["MS. JONES: Goodbye."]]
INFO = b"<< /Title (Weekly briefing) /CreationDate (D:20230320101500Z) >>"


def test_pdf_text_layer_is_read(tmp_path):
    result = read(tmp_path, "b.pdf", make_pdf(BRIEFING_PDF, INFO))
    lines = result.text.split("\n")
    expected = ["MR. SMITH: Good morning (all).", "Q Thank you.", "MS. JONES: Goodbye."]
    assert [line for line in lines if line.strip()] == expected
    assert (result.container, result.encoding) == ("pdf", "pdf text layer")
    assert result.metadata == {"title": "Weekly briefing", "date": "2023-03-20"}
    assert result.notes == ["3 pages", "page 2 has no text layer"]


def test_txt_that_is_a_pdf_is_read_as_pdf(tmp_path):
    result = read(tmp_path, "b.txt", make_pdf(BRIEFING_PDF))
    assert result.container == "pdf" and "MS. JONES: Goodbye." in result.text


def test_pdf_without_text_is_refused_with_ocr_advice(tmp_path):
    err = refused(tmp_path, "scan.pdf", make_pdf([[], []]))
    assert "no text layer on any page" in err.reason and "ocrmypdf" in err.reason


def encrypted(data: bytes, user: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user, "owner secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_with_a_password_is_refused(tmp_path):
    err = refused(tmp_path, "locked.pdf", encrypted(make_pdf(BRIEFING_PDF), "secret"))
    assert "encrypted PDF that needs a password" in err.reason and "qpdf --decrypt" in err.reason


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    result = read(tmp_path, "owner.pdf", encrypted(make_pdf(BRIEFING_PDF), ""))
    assert "MR. SMITH: Good morning (all)." in result.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\ngarbage", "not a readable PDF"),
        (make_pdf(BRIEFING_PDF)[:300], "not a readable PDF"),
        (b"<html>saved with the wrong name</html>", "not a PDF (no %PDF- header)"),
    ],
)
def test_broken_pdfs_are_refused(tmp_path, data, reason):
    assert reason in refused(tmp_path, "x.pdf", data).reason


# --- WebVTT and SRT --------------------------------------------------------------------------------

VTT = """WEBVTT
Kind: captions

NOTE a comment
that spans lines

STYLE
::cue { color: red }

REGION
id:fred

intro
00:00:01.000 --> 00:00:02.000 align:start position:10%
<v Jane Doe>Hello <i>there</i>,</v>

00:00:02.000 --> 00:00:03.000
<v.loud Jane Doe>and welcome &amp; thanks.</v>

00:03.000 --> 00:04.000
<v Bob>One</v> <v Ann>Two<00:00:03.500> <c.yellow>three</c></v>

00:00:05.000 --> 00:00:06.000
JOHN SMITH: no voice tag,
wrapped

00:00:06.000 --> 00:00:07.000
and continued.
- A dash starts a turn
- So does &gt;&gt; this

00:00:07.000 --> 00:00:08.000
<v Jane Doe>Back to Jane
"""


def test_webvtt_voices_become_labels_and_runs_join(tmp_path):
    result = read(tmp_path, "c.vtt", VTT.replace("\n", "\r\n"))
    assert result.text.split("\n") == [
        "Jane Doe: Hello there, and welcome & thanks.",
        "Bob: One",
        "Ann: Two three",
        "JOHN SMITH: no voice tag, wrapped and continued.",
        "- A dash starts a turn",
        "- So does >> this",
        "Jane Doe: Back to Jane",
    ]
    assert (result.container, result.metadata, result.notes) == ("webvtt", {}, [])


def test_webvtt_without_cues_is_refused(tmp_path):
    assert "no cue with text found" in refused(tmp_path, "n.vtt", "WEBVTT\n\nNOTE only a note\n").reason


SRT = (
    "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>MR. LEE:</i> {\\an8}Caf\xe9 is <b>open</b>,\r\nif a < b\r\n\r\n"
    "2\r\n00:00:02,500 --> 00:00:03,000\r\nthen more.\r\n\r\nafter a stray blank line\r\n\r\n"
    "3\r\n00:00:04,000 --> 00:00:05,000\r\n>> MS. KIM: <font color='red'>Next</font>.\r\n"
)


def test_srt_cues_join_until_a_new_turn(tmp_path):
    result = read(tmp_path, "c.srt", SRT.encode("cp1252"))
    assert result.text.split("\n") == [
        "MR. LEE: Café is open, if a < b then more. after a stray blank line",
        ">> MS. KIM: Next.",
    ]
    assert result.container == "srt" and result.encoding == "windows-1252"
    assert "1 block(s) without a timing line read as the previous cue's text" in result.notes


# --- speech-to-text JSON ---------------------------------------------------------------------------


def dumps(doc) -> str:
    return json.dumps(doc, indent=1)


def test_whisperx_segments_merge_by_speaker(tmp_path):
    doc = {
        "title": "Briefing",
        "date": "2023-03-20T10:00:00Z",
        "segments": [
            {"start": 0.0, "end": 1.0, "text": " Good morning,", "speaker": "SPEAKER_00"},
            {"start": 1.0, "end": 2.0, "text": " everyone.\n", "speaker": "SPEAKER_00"},
            {"start": 2.0, "end": 3.0, "text": " Why now?", "speaker": "SPEAKER_01"},
            {"start": 3.0, "end": 3.5, "text": " (unassigned)"},
            {"start": 4.0, "end": 5.0, "text": " Because.", "speaker": "SPEAKER_00"},
        ],
    }
    result = read(tmp_path, "w.json", dumps(doc))
    assert result.text == "SPEAKER_00: Good morning, everyone.\nSPEAKER_01: Why now? (unassigned)\nSPEAKER_00: Because."
    assert result.container == "stt-json"
    assert result.metadata == {"title": "Briefing", "date": "2023-03-20"}


def test_whisper_without_speakers_is_one_line_a_segment(tmp_path):
    doc = {"text": "Hello there. Bye.", "segments": [{"text": " Hello there."}, {"text": " "}, {"text": " Bye."}]}
    assert read(tmp_path, "w.json", dumps(doc)).text == "Hello there.\nBye."


def test_openai_plain_text_json(tmp_path):
    assert read(tmp_path, "o.json", '{"text": " All of it. "}').text == "All of it."


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        (  # AssemblyAI
            {"text": "x", "utterances": [{"speaker": "A", "text": "Hi.", "start": 0}, {"speaker": "B", "text": "Yo."}]},
            "A: Hi.\nB: Yo.",
        ),
        (  # Deepgram, utterances on
            {"results": {"utterances": [{"speaker": 0, "transcript": "Hi."}, {"speaker": 1, "transcript": "Yo."}]}},
            "Speaker 0: Hi.\nSpeaker 1: Yo.",
        ),
        (  # Deepgram, paragraphs
            {
                "results": {
                    "channels": [
                        {
                            "alternatives": [
                                {
                                    "transcript": "Hi. There. Yo.",
                                    "paragraphs": {
                                        "paragraphs": [
                                            {"speaker": 0, "sentences": [{"text": "Hi."}, {"text": "There."}]},
                                            {"speaker": 1, "sentences": [{"text": "Yo."}]},
                                        ]
                                    },
                                }
                            ]
                        }
                    ]
                }
            },
            "Speaker 0: Hi. There.\nSpeaker 1: Yo.",
        ),
        (  # AWS Transcribe
            {
                "results": {
                    "transcripts": [{"transcript": "Hello there. Hi."}],
                    "speaker_labels": {
                        "segments": [
                            {"speaker_label": "spk_0", "items": [{"start_time": "0.1", "speaker_label": "spk_0"}]},
                            {"speaker_label": "spk_1", "items": [{"start_time": "1.0", "speaker_label": "spk_1"}]},
                        ]
                    },
                    "items": [
                        {"start_time": "0.1", "type": "pronunciation", "alternatives": [{"content": "Hello"}]},
                        {"start_time": "0.5", "type": "pronunciation", "alternatives": [{"content": "there"}]},
                        {"type": "punctuation", "alternatives": [{"content": "."}]},
                        {"start_time": "1.0", "type": "pronunciation", "alternatives": [{"content": "Hi"}]},
                        {"type": "punctuation", "alternatives": [{"content": "."}]},
                    ],
                }
            },
            "spk_0: Hello there.\nspk_1: Hi.",
        ),
        (  # a plain list
            [{"text": "One.", "speaker": 1}, {"text": "Two.", "speaker": "1"}, {"text": "Three.", "speaker": 2}],
            "Speaker 1: One. Two.\nSpeaker 2: Three.",
        ),
    ],
)
def test_speech_to_text_shapes(tmp_path, doc, text):
    assert read(tmp_path, "s.json", dumps(doc)).text == text


@pytest.mark.parametrize(
    ("data", "reason", "line"),
    [
        ('{\n "segments": [\n  {"text": "a",}\n ]\n}', "not valid JSON (Expecting property name", 3),
        ("[" * 60 + "]" * 60, "nested deeper than 50 levels", None),
        ('{"segments": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than 50 levels", None),
        ('{"foo": 1, "bar": [2]}', "not a speech-to-text JSON shape (its top-level keys are 'foo', 'bar')", None),
        ('{"segments": [{"text": 3}]}', "segments[0]: 'text' is int, not text", None),
        ('{"segments": ["just a string"]}', "segments[0] is str, not an object", None),
        ('{"utterances": [{"speaker": true, "text": "x"}]}', "neither a name nor a number", None),
        ('{"segments": [{"text": "  "}]}', "the JSON holds no transcript text", None),
        ('"a string"', "the JSON is str", None),
    ],
)
def test_bad_json_is_refused(tmp_path, data, reason, line):
    err = refused(tmp_path, "bad.json", data)
    assert reason in err.reason and err.line == line


def test_deep_brackets_inside_strings_are_not_nesting(tmp_path):
    doc = {"segments": [{"text": "[[[" * 40 + " odd but fine"}]}
    assert read(tmp_path, "s.json", dumps(doc)).text.endswith("odd but fine")


def test_oversized_json_is_refused(tmp_path):
    data = '{"text": "' + "x" * 10_000_001 + '"}'
    assert "far more than a transcript" in refused(tmp_path, "big.json", data).reason


# --- any bytes -------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffix=st.sampled_from(sorted(CONTAINER_SUFFIXES) + [".dat"]),
    data=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.sampled_from([b"WEBVTT\n\n", b"<html>", b"%PDF-1.4\n", b'{"segments": [', b"1\n00:00:01,000 --> "]).flatmap(
            lambda head: st.binary(max_size=200).map(lambda tail: head + tail)
        ),
    ),
)
def test_any_bytes_give_text_or_a_transcript_error(tmp_path, suffix, data):
    path = tmp_path / ("any" + suffix)
    try:
        first = read_container(path, data)
    except TranscriptError as err:
        assert err.reason and "Traceback" not in err.reason
        return
    assert read_container(path, data) == first
    assert "\r" not in first.text and not first.text.startswith("\ufeff")
