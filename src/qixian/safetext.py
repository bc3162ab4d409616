"""Text from outside (the case system, the directory) made harmless for each medium that shows it: control and
bidi characters removed, and for each chat flavour, SMS and CSV the characters that would form markup, a link
or a formula turned into look-alikes that do not. Escaping happens here, at the last step, for the medium; our
own template text is never passed through these functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# C0 and C1 controls (DEL too) and the bidi controls: U+200E/F marks, U+061C, U+202A–U+202E embeddings and
# overrides, U+2066–U+2069 isolates. A tab, CR or newline becomes a space (it separated words); the rest go.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile("[\t\n\r]+")
# The JSON escapes of those characters (\n, \t, \u202e ...), as a raw line may write them.
_ESCAPED = re.compile(r"\\(?:[bfnrt]|u(?:00[01]|007f|008|009|061c|200[ef]|202[a-e]|206[6-9]))", re.IGNORECASE)

# What forms markup in the bots' markdown. DingTalk: headings #, quotes >, **bold**, *italic*, [links](), ![images](),
# - and 1. lists. WeCom: headings, **bold**, [links](), `code`, > quotes, <font color> and <@userid> mentions.
# Neither documents backslash escapes, so each such character becomes its full-width look-alike, which reads the
# same in Chinese text and forms nothing. (Full-width underscores in an id are the price: still readable.)
_MARKDOWN = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "\\`*_[]()#<>!|~&+"})
# Feishu's text message has one markup, <at user_id="...">; SMS has none, but 【】 is where the sender's signature
# stands, so a look-alike keeps a text from forging one.
_PLAIN = str.maketrans({"<": "＜", ">": "＞", "【": "〔", "】": "〕"})
# A bare address is made into a link by every client: "://" and "www." lose the characters that make it one.
_ADDRESS = re.compile(r"(?i)://|\bwww\.")


def clean(text: str) -> str:
    """The text without control or bidi characters (tab, CR, newline become one space)."""
    return _CONTROLS.sub("", _SPACES.sub(" ", text))


def may_hold_controls(raw: str) -> bool:
    """Whether a raw line may hold a control or bidi character, itself or as a JSON escape: a quick test for every
    line (str.isprintable is False for every control and format character, and for a few harmless others)."""
    return not raw.isprintable() or ("\\" in raw and _ESCAPED.search(raw) is not None)


def cleaned(value: Any) -> Any:
    """A parsed value (text, list, mapping: keys too) with every text in it cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {cleaned(k): cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    return value


def _unlinked(text: str) -> str:
    return _ADDRESS.sub(lambda m: "：//" if m.group() == "://" else m.group()[:3] + "．", text)


def markdown(text: str) -> str:
    """For DingTalk and WeCom markdown (and any other chat channel, rendered as markdown)."""
    return _unlinked(clean(text)).translate(_MARKDOWN)


def plain(text: str) -> str:
    """For Feishu's text message and SMS."""
    return _unlinked(clean(text)).translate(_PLAIN)


class Trusted(str):
    """Text we made ourselves that must reach the message as it is (the signed acknowledgement link)."""


FLAVOURS: dict[str, Callable[[str], str]] = {"dingtalk": markdown, "wecom": markdown, "feishu": plain, "sms": plain}


def finalizer(flavour: str) -> Callable[[Any], Any]:
    """Jinja's `finalize` for a flavour: every {{ value }} a template writes is escaped for it, unless Trusted."""
    escape = FLAVOURS[flavour]

    def finalize(value: Any) -> Any:
        if isinstance(value, Trusted) or not isinstance(value, str):
            return value
        return escape(value)

    return finalize


def visible(value: Any) -> Any:
    """Jinja's `finalize` for the HTML pages (autoescape escapes the result): text without control or bidi
    characters. Markup (the pages' own HTML) is left as it is."""
    return _CONTROLS.sub("", value) if type(value) is str else value


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (OWASP CSV injection): a text starting with = + - @, tab or
    CR gets a leading apostrophe. Only text is touched: the numbers we write as numbers (int, float; a negative
    count or rate stays -3) are left as they are, and a text such as "-3" from outside is neutralised too."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_row(values: list) -> list:
    """A row for csv.writer with every text cell neutralised: every CSV the product writes goes through this."""
    return [csv_cell(v) for v in values]
