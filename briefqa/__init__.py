"""briefqa: cited answers from press-conference transcripts."""

__version__ = "0.1.0"
