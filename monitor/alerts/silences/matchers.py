"""Silence matchers with Alertmanager's syntax and meaning.

    name=value    name!=value    name=~regex    name!~regex

- A label name is `[a-zA-Z_][a-zA-Z0-9_]*` (Prometheus' label names); a bad one
  is an error naming it.
- A value may be double-quoted with Go's quoting (`alertname=~".*"`,
  `summary="say \\"hi\\""`), as Alertmanager's matcher parser reads it
  (`strconv.Unquote`: `\\"`, `\\\\`, `\\n`, `\\t`, `\\xNN` below 0x80, `\\uNNNN`, ...);
  unquoted, it is taken as written, without the spaces around it (so
  `host=~foo\\.com` keeps its backslash).
- An alert without the label has it as "" (Alertmanager's rule), so `ticker!=BA`
  and `ticker=~".*"` match an alert with no ticker at all.
- A regex is fully anchored, `^(?:regex)$`, and must be valid for RE2, the
  engine Alertmanager (Go) uses. google-re2 is not a dependency of finsent, so
  `re2_problem` refuses explicitly what Python's `re` accepts and RE2 does not
  (backreferences `\\1` and `(?P=name)`, lookahead/lookbehind `(?=` `(?!`
  `(?<=` `(?<!`, atomic groups `(?>`, possessive quantifiers `a*+`,
  conditionals `(?(1)...)`, comments `(?#...)`, flags other than i, m, s, the
  `\\Z` anchor, repeat counts above 1000), then compiles the pattern with
  Python's `re` (ASCII classes, as RE2's `\\d`, `\\w`, `\\s`, `\\b` are). A pattern
  must therefore be valid for both: RE2-only syntax such as `\\pL` or `\\z` is
  refused too, with `re`'s message.

Several matchers may name the same label (`ticker!=BA`, `ticker=~"B.*"`); a
silence mutes an alert when every matcher matches. Silences store them as
Alertmanager's v2 API does, a JSON list of `{"name", "value", "isRegex",
"isEqual"}`; rows written before (a `{label: value}` map of equalities) are
read as equality matchers (`load_matchers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MATCHER = re.compile(r"\s*([^=!~\s]*)\s*(=~|!~|!=|=)(.*)", re.S)
_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+-]+")  # printed without quotes (and read back the same)
_GO_ESCAPE = re.compile(
    r'\\(?:([abfnrtv\\"])|x([0-9a-fA-F]{2})|([0-7]{3})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))')
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
                   '"': '"'}
RE2_MAX_REPEAT = 1000
OPERATORS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


class MatcherError(ValueError):
    """A matcher that cannot be used; the message names it."""


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def check(self) -> Matcher:
        """self, when its name is a label name and its regex valid for RE2; else MatcherError."""
        check_label_name(self.name)
        if self.is_regex:
            _compile(self.value)
        return self

    @property
    def operator(self) -> str:
        return OPERATORS[(self.is_regex, self.is_equal)]

    def matches(self, labels: Mapping[str, Any]) -> bool:
        """Alertmanager's rule: a missing label is ""; a stored regex that no longer compiles matches nothing."""
        value = str(labels.get(self.name, ""))
        if self.is_regex:
            try:
                hit = _compile(self.value).fullmatch(value) is not None
            except MatcherError:
                return False
        else:
            hit = value == self.value
        return hit if self.is_equal else not hit

    def as_dict(self) -> dict[str, Any]:
        """Alertmanager's v2 API shape, as stored in silences.matchers."""
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def __str__(self) -> str:
        value = self.value if _PLAIN.fullmatch(self.value) else go_quote_ascii(self.value)
        return f"{self.name}{self.operator}{value}"


def check_label_name(name: str) -> str:
    if not LABEL_NAME.fullmatch(name):
        raise MatcherError(f"label name {name!r} is invalid: expected letters, digits and _, not starting with a "
                           f"digit ([a-zA-Z_][a-zA-Z0-9_]*)")
    return name


def go_unquote(text: str) -> str:
    """Go's `strconv.Unquote` of a double-quoted string (byte escapes limited to ASCII: values are text)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise MatcherError(f"value {text!r}: a quoted value must start and end with a double quote")
    inner, out, i = text[1:-1], [], 0
    while i < len(inner):
        char = inner[i]
        if char == '"':
            raise MatcherError(f'value {text!r}: a double quote inside a quoted value must be escaped as \\"')
        if char == "\n":
            raise MatcherError(f"value {text!r}: a newline inside a quoted value must be written \\n")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        found = _GO_ESCAPE.match(inner, i)
        if found is None:
            raise MatcherError(f"value {text!r}: unknown escape {inner[i:i + 2]!r} (Go quoting: write \\\\ for a "
                               f"backslash, e.g. \"foo\\\\.com\", or leave the value unquoted)")
        simple, hex_byte, octal, short, long = found.groups()
        if simple:
            out.append(_SIMPLE_ESCAPES[simple])
        else:
            code = int(hex_byte, 16) if hex_byte else int(octal, 8) if octal else int(short or long, 16)
            if (hex_byte or octal) and code >= 0x80:
                raise MatcherError(f"value {text!r}: byte escape {found.group()!r} is not ASCII; use \\u")
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise MatcherError(f"value {text!r}: {found.group()!r} is not a Unicode character")
            out.append(chr(code))
        i = found.end()
    return "".join(out)


def go_quote_ascii(value: str) -> str:
    """A double-quoted form `go_unquote` reads back (backslash, quote and control characters escaped)."""
    escaped = []
    for char in value:
        if char in '\\"':
            escaped.append("\\" + char)
        elif char in "\a\b\f\n\r\t\v":
            escaped.append("\\" + next(k for k, v in _SIMPLE_ESCAPES.items() if v == char))
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\x{ord(char):02x}")
        elif 0x80 <= ord(char) <= 0x9F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def re2_problem(pattern: str) -> str | None:
    """What in pattern RE2 would refuse although Python's `re` accepts it; None when nothing is found."""
    i, in_class, after_repeat = 0, False, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1:i + 2]
            if not in_class and escaped in "123456789" and escaped:
                return f"backreference \\{escaped} (RE2 has no backreferences)"
            if escaped in ("Z", "g"):
                return f"\\{escaped} is not RE2 syntax" + (" (use $ or \\z)" if escaped == "Z" else "")
            i, after_repeat = i + 2, False
            continue
        if in_class:
            if char == "]":
                in_class = False
            i += 1
            continue
        if char == "[":
            in_class = True
            i += 1
            if pattern[i:i + 1] == "^":
                i += 1
            if pattern[i:i + 1] == "]":  # a leading ] is a literal
                i += 1
            after_repeat = False
            continue
        if char == "(" and pattern[i + 1:i + 2] == "?":
            rest = pattern[i + 2:]
            for prefix, what in (("=", "lookahead (?="), ("!", "negative lookahead (?!"),
                                 ("<=", "lookbehind (?<="), ("<!", "negative lookbehind (?<!"),
                                 (">", "atomic group (?>"), ("(", "conditional (?("), ("P=", "backreference (?P="),
                                 ("#", "comment (?#")):
                if rest.startswith(prefix):
                    return f"{what} is not supported by RE2"
            flags = re.match(r"([a-zA-Z]*)(?:-([a-zA-Z]*))?[:)]", rest)
            if flags and set((flags.group(1) or "") + (flags.group(2) or "")) - set("ims"):
                return f"flags (?{flags.group(0)[:-1]}): RE2 knows only i, m and s"
        if char in "*+?" or (char == "{" and re.match(r"\{(\d+)(?:,(\d*))?\}", pattern[i:])):
            if after_repeat and char in "*+":
                return f"possessive or repeated quantifier at position {i} is not supported by RE2"
            if char == "{":
                counts = re.match(r"\{(\d+)(?:,(\d*))?\}", pattern[i:])
                assert counts is not None
                if any(int(n) > RE2_MAX_REPEAT for n in counts.groups() if n):
                    return f"repeat count {counts.group()} exceeds RE2's maximum of {RE2_MAX_REPEAT}"
                i += len(counts.group())
                after_repeat = True
                continue
            after_repeat = not (after_repeat and char == "?")  # a lazy `*?` ends the quantifier
            i += 1
            continue
        after_repeat = False
        i += 1
    return None


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    problem = re2_problem(pattern)
    if problem is not None:
        raise MatcherError(f"regex {pattern!r}: {problem}")
    try:
        return re.compile(f"(?:{pattern})", re.ASCII)
    except re.error as error:
        raise MatcherError(f"regex {pattern!r}: {error}") from None


def parse_matcher(text: str) -> Matcher:
    """One matcher in Alertmanager's syntax: `name=value`, `name!=value`, `name=~regex`, `name!~regex`."""
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise MatcherError(f"{text!r}: expected name=value, name!=value, name=~regex or name!~regex")
    name, operator, raw = found.group(1), found.group(2), found.group(3).strip()
    if not name:
        raise MatcherError(f"{text!r}: the label name is missing before {operator}")
    check_label_name(name)
    if raw.startswith('"') or raw.endswith('"'):
        value = go_unquote(raw)
    else:
        value = raw
    regex, equal = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}[operator]
    try:
        return Matcher(name, value, is_regex=regex, is_equal=equal).check()
    except MatcherError as error:
        raise MatcherError(f"{text!r}: {error}") from None


def parse_matchers(texts: Iterable[str]) -> list[Matcher]:
    """Each text one matcher (the CLI's repeated --match, the dashboard's lines); errors name the one at fault."""
    return [parse_matcher(text) for text in texts]


def load_matchers(stored: Any) -> list[Matcher]:
    """The matchers of a silences row: a list of Alertmanager v2 matchers, or an old `{label: value}` map.

    Not validated: a row is read as it was stored (an old row may carry a name such
    as `alertname!` that matches nothing), so the alerter never fails on one.
    """
    if isinstance(stored, Mapping):
        return [Matcher(str(name), str(value)) for name, value in stored.items()]
    return [Matcher(str(item["name"]), str(item["value"]), bool(item.get("isRegex", False)),
                    bool(item.get("isEqual", True))) for item in stored or ()]


def as_matchers(given: Mapping[str, str] | Sequence[Matcher | str | Mapping[str, Any]]) -> list[Matcher]:
    """Matchers from what a caller has: a `{label: value}` map (equalities), texts, stored dicts or Matchers."""
    if isinstance(given, Mapping):
        return [m.check() for m in load_matchers(given)]
    out = []
    for item in given:
        if isinstance(item, Matcher):
            out.append(item.check())
        elif isinstance(item, str):
            out.append(parse_matcher(item))
        else:
            out.extend(m.check() for m in load_matchers([item]))
    return out


def matches_all(matchers: Sequence[Matcher], labels: Mapping[str, Any]) -> bool:
    """True when every matcher matches labels (an empty set matches everything)."""
    return all(m.matches(labels) for m in matchers)


def matches_empty(matchers: Sequence[Matcher]) -> bool:
    """True when the set matches an alert with no labels at all (Alertmanager refuses such silences)."""
    return matches_all(matchers, {})


def describe(matchers: Sequence[Matcher]) -> str:
    """`{ticker=BA, alertname=~".*"}`, in the order given."""
    return "{" + ", ".join(str(m) for m in matchers) + "}"
