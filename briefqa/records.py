"""Typed records passed between the pipeline's stages.

parse -> ParsedTranscript (one file, speakers as labelled in the text)
turns -> Briefing / Turn (roles resolved across the corpus, answers linked to questions)
chunk -> Passage (a turn or a piece of one, with offsets into the briefing's text)
search/cite -> SearchResult (a passage with its citation)
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from briefqa.choices import Role

# Speakers that are no one's name: opening remarks no one can be credited with, a caption's '>>'.
UNATTRIBUTED = "Unattributed"
UNIDENTIFIED = "Unidentified speaker"
UNNAMED_SPEAKERS = frozenset({UNATTRIBUTED, UNIDENTIFIED})


class Person(BaseModel):
    """A named participant, with the position the transcript gives for them."""

    name: str = Field(description="Name as written in the transcript, honorific removed.")
    title: str | None = Field(default=None, description="Title or position text, when the transcript gives one.")
    label: str | None = Field(
        default=None,
        description="The label the transcript gives this person's turns when it is not their name "
        "('PM', 'Ms. Jean-Pierre'): the speaker filter finds them by either.",
    )


def speaker_people(officials: list[Person], chair: Person | None) -> dict[str, Person]:
    """What turns are labelled with ('PM', or a name) -> the person, for the officials and the chair
    (the chair's entry, when both are one label)."""
    return {p.label or p.name: p for p in [*officials, *([chair] if chair else [])]}


def speaker_caption(speaker: str, person: Person | None) -> str:
    """A speaker as a citation names them: 'PM (Jane Roe), Prime Minister', 'Li Kuiwen, spokesperson'."""
    shown = speaker
    if person and person.name != speaker and person.label == speaker and person.name != "Reporter":
        shown += f" ({person.name})"
    return f"{shown}, {person.title}" if person and person.title else shown


class LabelledTurn(BaseModel):
    """One speaker turn as the parser found it, before roles are resolved."""

    speaker: str = Field(description="The label line's text, e.g. 'Yu Jianhua' or 'CCTV'.")
    text: str = Field(description="The turn's text: exactly text[char_start:char_end].")
    char_start: int = Field(ge=0)
    char_end: int = Field(ge=0)
    line: int = Field(ge=1, description="1-based line of the label in the source file.")
    role_hint: Role | None = Field(
        default=None, description="Role the format itself states (e.g. a 'Q' line is a reporter)."
    )
    outlet: str | None = Field(default=None, description="A reporter's outlet, when the transcript names it.")


class Aside(BaseModel):
    """Text of a transcript that is in no speaker's turn, and why: every character is accounted for."""

    kind: str = Field(
        description="'label', 'metadata' (title, date, speakers list) or 'furniture' (page "
        "headers and footers, separators, stage notes, time stamps)."
    )
    char_start: int = Field(ge=0)
    char_end: int = Field(ge=0)
    line: int = Field(ge=1)
    why: str = Field(description="What it was taken for, e.g. 'page footer' or 'label'.")


class ParsedTranscript(BaseModel):
    """Everything one transcript file says about itself."""

    id: str
    title: str
    held_on: date | None
    published_on: date | None
    source: str
    officials: list[Person] = Field(description="From the transcript's speakers block, if any.")
    chair: Person | None
    turns: list[LabelledTurn]
    reporter_labels_are_outlets: bool = Field(
        default=True,
        description="Whether a reporter's label names their outlet ('Yicai.com:'); False where the "
        "format labels every question alike (a White House 'Q').",
    )
    source_url: str | None = Field(default=None, description="The page the transcript came from, if it says.")
    language: str = Field(default="en", description="ISO 639-1 code of the transcript's language.")
    reader: str = Field(default="", description="The reader that parsed it and its version, e.g. 'general 1'.")
    collection: str = Field(
        default="", description="The source it belongs to in an archive of several (a folder's name)."
    )
    date_from: str | None = Field(default=None, description="Where held_on was read: front matter, title, ...")
    set_aside: list[Aside] = Field(default_factory=list, description="Text in no turn, and why.")
    notes: list[str] = Field(default_factory=list, description="Warnings about how the file was read.")
    text: str = Field(exclude=True, repr=False)


class Turn(BaseModel):
    """A speaker turn with its role and, for an answer, the question it answers."""

    index: int = Field(ge=1, description="Number of the turn in its briefing, counting from 1.")
    speaker: str = Field(description="Who spoke: a person's name, or the outlet of a reporter.")
    role: Role
    text: str = Field(description="The transcript's own text of the turn.")
    char_start: int = Field(ge=0, description="Offset of the turn's text in the briefing's text.")
    char_end: int = Field(ge=0)
    answers_turn: int | None = Field(
        default=None,
        description="For an official's answer: the index of the reporter's question it answers.",
    )
    outlet: str | None = Field(default=None, description="A reporter's outlet, when the transcript names it.")


class Briefing(BaseModel):
    """A parsed press conference."""

    id: str = Field(description="Stable id derived from the file name.")
    title: str = Field(description="The headline.")
    held_on: date | None = Field(description="The day the press conference took place.")
    published_on: date | None = Field(description="The page's date, when the page gives one.")
    source: str = Field(description="Path of the transcript file.")
    source_url: str | None = Field(default=None, description="The page the transcript came from, if it says.")
    language: str = Field(default="en", description="ISO 639-1 code of the transcript's language.")
    collection: str = Field(
        default="", description="The source it belongs to in an archive of several (a folder's name)."
    )
    reader: str = Field(default="", description="The reader that parsed it and its version, e.g. 'general 1'.")
    officials: list[Person]
    chair: Person | None = Field(description="The moderator, when there is one.")
    outlets: list[str] = Field(description="Media outlets that asked questions, in order of asking.")
    turns: list[Turn]
    text: str = Field(exclude=True, repr=False, description="The transcript text offsets refer to.")

    def turn(self, index: int) -> Turn:
        """The turn with this number (counting from 1)."""
        return self.turns[index - 1]


class BriefingSummary(BaseModel):
    """A briefing without its turns and text: what ``briefqa briefings`` lists, of a corpus or an index."""

    id: str
    title: str
    held_on: date | None
    published_on: date | None
    source: str
    source_url: str | None = None
    language: str = "en"
    collection: str = ""
    reader: str = ""
    officials: list[Person]
    chair: Person | None
    outlets: list[str]
    turn_count: int = Field(ge=0, description="How many turns it has.")

    @classmethod
    def of(cls, briefing: Briefing) -> BriefingSummary:
        return cls(**briefing.model_dump(exclude={"turns"}), turn_count=len(briefing.turns))


class SpeakerSummary(BaseModel):
    """A name that turns are given to, in one role: a value the speaker filter (and, for a
    reporter, the outlet filter) finds."""

    name: str = Field(description="As the transcripts label the turns: a person, or a reporter's outlet.")
    role: Role
    turns: int = Field(description="How many turns are this name's in this role.")
    briefings: int = Field(description="In how many briefings.")


class SkippedFile(BaseModel):
    """A transcript that could not be used, and why."""

    path: str
    reason: str = Field(description="What is wrong and what to do about it.")
    line: int | None = None

    def message(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class Corpus(BaseModel):
    """The briefings parsed from a set of files, and the files that were skipped."""

    briefings: list[Briefing]
    skipped: list[SkippedFile] = Field(default_factory=list)

    def get(self, briefing_id: str) -> Briefing | None:
        return next((b for b in self.briefings if b.id == briefing_id), None)


class Passage(BaseModel):
    """A turn, or a piece of a long one, with everything a citation needs."""

    id: str = Field(description="Stable id: '<briefing>#<turn>' or '<briefing>#<turn>.<part>'.")
    briefing_id: str
    briefing_title: str
    held_on: date | None
    turn_index: int = Field(description="Number of the turn in its briefing, from 1.")
    part: int = Field(description="Number of this passage within its turn, from 1.")
    speaker: str
    role: Role
    text: str = Field(description="The transcript's own text: briefing text[char_start:char_end].")
    char_start: int
    char_end: int
    answers_turn: int | None = None
    question_outlet: str | None = Field(
        default=None, description="Who asked the question answered: the reporter's outlet when named, else their label."
    )
    outlet: str | None = Field(default=None, description="A reporter's outlet, when the transcript names it.")
    language: str = Field(default="en", description="ISO 639-1 code of the briefing's language.")
    source_url: str | None = Field(default=None, description="The page the transcript came from, if it says.")
    collection: str = Field(default="", description="The source the briefing belongs to.")
    question_text: str | None = Field(default=None, description="The question answered, if any.")
    embedded_text: str = Field(
        default="", description="What was embedded: context plus text (empty when read back from an index)."
    )
