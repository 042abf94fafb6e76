"""Stable, deterministic IRIs for everything kgpipe writes.

Every IRI is a pure function of its inputs (base IRI, KB id, document id,
offsets, NIL key, run id), so reruns mint identical IRIs. Identifiers are
percent-encoded as UTF-8 outside RFC 3986's unreserved set, which makes every
minted IRI valid in N-Triples, Turtle and SPARQL whatever the id holds.

Layout under a base IRI ``B`` (which ends in ``/`` or ``#``)::

    B entity/<kb id>                 a KB entity
    B nil/<32 hex>                   an entity the KB lacks: sha256 of the NIL key
    B doc/<doc id>                   a document (a NIF context)
    B doc/<doc id>#char=<s>,<e>      a mention: RFC 5147 character span [s, e)
    B run/<run id>                   a pipeline run (a PROV activity)
    B graph/<run id>                 the named graph holding a run's triples
    B cooccurrence/<32 hex>          a weighted co-occurrence statement
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

# RFC 3986 unreserved characters; everything else in an identifier is encoded.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ALL_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Characters a valid IRI may hold unencoded (RFC 3987 iunreserved, reserved
# minus "[" and "]", and "%" of a well-formed escape). ucschar ranges only,
# less U+2028/U+2029, which line splitters take for line breaks.
_IRI_CHARS = (
    r"A-Za-z0-9\-._~!$&'()*+,;=:@/?#"
    "\u00a0-\u2027\u202a-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_BAD_IRI_CHAR = re.compile(rf"%(?![0-9A-Fa-f]{{2}})|[^{_IRI_CHARS}%]")
_AUTHORITY = re.compile(
    r"(?:[^@/?#\[\]]*@)?"  # userinfo
    r"(?:\[[0-9A-Fa-f:.]+\]|[^@/?#:\[\]]*)"  # IP literal or reg-name
    r"(?::[0-9]*)?"  # port
)
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*")


@functools.lru_cache(maxsize=1 << 16)
def encode_segment(value: str) -> str:
    """Percent-encodes an identifier for use as one IRI path segment.

    Text is NFC-normalised first, so canonically equal ids give one IRI; lone
    surrogates (which UTF-8 cannot carry) become U+FFFD. Remembered for recent values: a
    document's id is encoded once per mention of it, a KB id once per link.
    """
    if _ALL_UNRESERVED.fullmatch(value):
        return value
    value = unicodedata.normalize("NFC", _without_surrogates(value))
    return "".join(
        ch if ch in _UNRESERVED else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in value
    )


def _without_surrogates(value: str) -> str:
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogate(value) else value


def _has_surrogate(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def _digest(*parts: str) -> str:
    data = "\x1f".join(unicodedata.normalize("NFC", _without_surrogates(p)) for p in parts)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


@functools.lru_cache(maxsize=1 << 16)
def valid_iri(iri: str) -> str:
    """Returns ``iri`` made valid for N-Triples, or raises ``ValueError``.

    Characters an IRI may not hold (space, control characters, ``<>"{}|^`\\``,
    brackets outside an IP literal, stray ``%``, lone surrogates, non-characters)
    are percent-encoded as UTF-8; a valid IRI is returned unchanged.

    Raises:
        ValueError: If ``iri`` is not absolute (no scheme) or its authority
            (host and port) cannot be valid.
    """
    if not isinstance(iri, str) or not _SCHEME.match(iri):
        raise ValueError(f"An IRI must be absolute, starting with a scheme such as https:. Received: {iri!r}")
    scheme, rest = iri.split(":", 1)
    if rest.startswith("//"):
        end = len(rest)
        for mark in "/?#":
            pos = rest.find(mark, 2)
            if pos != -1:
                end = min(end, pos)
        authority = rest[2:end]
        if not _AUTHORITY.fullmatch(authority) or _BAD_IRI_CHAR.search(authority.replace("[", "").replace("]", "")):
            raise ValueError(f"IRI has an invalid authority (host or port) {authority!r}. Received: {iri!r}")
        head, rest = scheme + "://" + authority, rest[end:]
    else:
        head = scheme + ":"
    if "#" in rest:  # Only the first "#" starts the fragment; later ones are encoded.
        before, after = rest.split("#", 1)
        rest = before + "#" + after.replace("#", "%23")
    if _BAD_IRI_CHAR.search(rest):
        rest = _BAD_IRI_CHAR.sub(_encode_match, _without_surrogates(rest))
    return head + rest


def _encode_match(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))


def check_base_iri(base_iri: str) -> str:
    """Returns ``base_iri`` if it is a valid absolute IRI ending in ``/`` or ``#``."""
    if not isinstance(base_iri, str) or not base_iri.endswith(("/", "#")):
        raise ValueError(f"`base_iri` must be an absolute IRI ending in '/' or '#'. Received: base_iri={base_iri!r}")
    if valid_iri(base_iri) != base_iri:
        raise ValueError(
            f"`base_iri` holds characters an IRI may not hold. Received: base_iri={base_iri!r} "
            f"(valid form: {valid_iri(base_iri)!r})"
        )
    return base_iri


def language_tag(language: str | None) -> str | None:
    """Returns a well-formed BCP 47 tag for ``language`` (``zh_CN`` -> ``zh-CN``), or ``None``."""
    if not language:
        return None
    tag = language.strip().replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def entity_iri(base_iri: str, kb_id: str) -> str:
    """Returns the IRI of a KB entity: ``<base>entity/<percent-encoded kb id>``."""
    if not kb_id:
        raise ValueError(f"A KB id must be non-empty. Received: kb_id={kb_id!r}")
    return f"{base_iri}entity/{encode_segment(kb_id)}"


def nil_iri(base_iri: str, nil_key: str) -> str:
    """Returns the IRI minted for a NIL cluster: ``<base>nil/<sha256(nil_key)[:32]>``.

    The NIL key (normalised surface form and type, made by the linker) is
    hashed, so equal keys share one IRI across documents and runs.
    """
    if not nil_key:
        raise ValueError(f"A NIL key must be non-empty. Received: nil_key={nil_key!r}")
    return f"{base_iri}nil/{_digest(nil_key)}"


def document_iri(base_iri: str, doc_id: str) -> str:
    """Returns the IRI of a document: ``<base>doc/<percent-encoded doc id>``."""
    return f"{base_iri}doc/{encode_segment(doc_id)}"


def mention_iri(base_iri: str, doc_id: str, start: int, end: int) -> str:
    """Returns the IRI of the mention ``[start, end)`` (code points) of a document (RFC 5147)."""
    return f"{document_iri(base_iri, doc_id)}#char={int(start)},{int(end)}"


def run_iri(base_iri: str, run_id: str) -> str:
    """Returns the IRI of a run (a PROV activity)."""
    return f"{base_iri}run/{encode_segment(run_id)}"


def graph_iri(base_iri: str, run_id: str) -> str:
    """Returns the IRI of the named graph holding one run's triples."""
    return f"{base_iri}graph/{encode_segment(run_id)}"


def cooccurrence_iri(base_iri: str, run_id: str, first: str, second: str) -> str:
    """Returns the IRI of the co-occurrence statement of an entity pair within one run."""
    return f"{base_iri}cooccurrence/{_digest(run_id, first, second)}"
