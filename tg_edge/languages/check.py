"""Whether a translation is in its target language: per sentence by py3langid, and not a copy of its source.

Thresholds were chosen on FLORES-200 devtest (English into the 13 other languages shipped in
``tg_edge/bench/data/flores200``, all 1012 lines; see ``tests/test_language_guard.py``):

- A sentence is judged only when it keeps :data:`MIN_LETTERS` letters outside capitalised words,
  numbers, URLs and code: below that it is a name, a title or a figure, which stays as it is
  ("Apia is the capital of Samoa." keeps 17 such letters).
- It is in the wrong language when the detector's most likely language is neither the target nor one
  the detector confuses with it (:data:`~.labels.LOOKALIKES`), and the target and its look-alikes together
  score below :data:`MIN_TARGET_PROBABILITY`. On the references a sentence that loses to another
  language still scores 0.09–0.44 for its own (Portuguese read as Galician, Russian as Bulgarian);
  an English sentence in a German output scores below 0.001 for German.
- A sentence that passes as a whole is judged clause by clause too (its parts between ``,`` ``;`` ``:``),
  and a clause with letters enough for two judgements half by half, with the same rule: "Le président de
  la République, is the winner of the elections."; "… expressed his frustration over the Les deletions lors
  de son interview avec Wikinews." Of the 13,156 references this flags two more (a Portuguese quote, a
  French sentence naming "Addenbrooke's Hospital").
- A copy: at least :data:`MAX_COPIED_SHARE` of the output's word trigrams (of at least
  :data:`MIN_TRIGRAMS`, names left out) appear in the source. References reach at most 0.46. And a
  sentence whose every word trigram (names left out; at least :data:`MIN_COPIED_LETTERS` letters) is the
  source's: "Dr. Malar Balasubramanian, 29, was found in Blue Ash." is too short to judge by language
  but copies "was found in". No reference has one.

While a translation forms, an output that begins with its source's own first words (at least
:data:`COPY_START_WORDS` of them, with :data:`COPY_START_LETTERS` letters outside names) is a copy under way
and need not be finished (:func:`copy_start`): on FLORES no reference begins so (0 of 146,774 pairs over
the 182 ordered pairs of the 14 languages; at 3 words and 8 letters, 4 Spanish/Portuguese pairs do), and of
the demo model's en→de outputs on devtest 0–199 the 21 that do are all copies.

A target that is a variant of the source (en → en-GB), or a pair the detector cannot tell apart
(hr/sr/bs, ms/id, no/da), is never judged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..segment import split_sentences
from .labels import LOOKALIKES, identifier, indistinguishable, label

MIN_LETTERS = 20
MIN_TARGET_PROBABILITY = 0.05
MAX_COPIED_SHARE = 0.5
MIN_TRIGRAMS = 4
MIN_COPIED_LETTERS = 8
COPY_START_WORDS = 4
COPY_START_LETTERS = 10

# What legitimately stays as written: URLs and e-mail addresses, code in backticks, tokens with code
# characters, numbers. Capitalised words (names) are left out of the letter count and of the trigrams.
_UNJUDGED = re.compile(
    r"\w+://\S+|www\.\S+|\S+@\S+\.\w+|`[^`]*`|\S*[_=<>{}\[\]\\/#@|$]\S*|\S*\w\.\w\S*|\S*\d\S*"
)
_WORD = re.compile(r"[^\W\d_]+")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")


def judged_letters(text: str) -> int:
    """Letters of ``text`` outside names (capitalised words), numbers, URLs and code."""
    rest = _UNJUDGED.sub(" ", text)
    return sum(len(word) for word in _WORD.findall(rest) if not word[0].isupper())


def wrong_sentences(output: str, *, target: str) -> list[str]:
    """The sentences of ``output`` that are clearly not in ``target``, in whole or in a clause."""
    accepted = {label(target)} | LOOKALIKES.get(label(target), frozenset())
    return [
        sentence
        for sentence in split_sentences(output, target)
        if any(_wrong(part, accepted) for part in _parts(sentence))
    ]


def _parts(sentence: str) -> list[str]:
    """What is judged of a sentence: itself, its clauses, and the halves of a clause long enough for two."""
    clauses = _CLAUSE.split(sentence)
    parts = [sentence, *clauses] if len(clauses) > 1 else [sentence]
    for clause in clauses:
        if judged_letters(clause) >= 2 * MIN_LETTERS:
            words = clause.split()
            parts += [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
    return parts


def copied_sentences(source_text: str, output: str, *, target: str) -> list[str]:
    """The sentences of ``output`` whose every word trigram (names left out) is one of ``source_text``'s."""
    seen = set(_trigrams(source_text))
    copied = []
    for sentence in split_sentences(output, target):
        grams = _trigrams(sentence)
        if grams and judged_letters(sentence) >= MIN_COPIED_LETTERS and all(gram in seen for gram in grams):
            copied.append(sentence)
    return copied


def copy_start(*source_texts: str, source: str, target: str) -> Callable[[str], bool] | None:
    """A test on an output as it forms: whether it has begun with the first words of one of
    ``source_texts`` (the unit and, where a glossary wrote its terms in, the text the model was shown): a copy
    under way. ``None`` when there is nothing to test: the pair is never judged, or no text starts with enough
    words outside names."""
    if indistinguishable(source, target):
        return None
    starts = [start for text in dict.fromkeys(source_texts) if (start := _copy_start(text)) is not None]
    if not starts:
        return None

    def copying(text: str) -> bool:
        for start in starts:
            seen = text.split(maxsplit=len(start))
            if len(seen) > len(start) and seen[: len(start)] == start:
                return True
        return False

    return copying


def _copy_start(text: str) -> list[str] | None:
    """The shortest start of ``text`` with enough words and letters to call an output beginning so a copy
    (a copy shows only once the word after it begins)."""
    words = text.split()
    n = next(
        (
            n
            for n in range(COPY_START_WORDS, len(words))
            if judged_letters(" ".join(words[:n])) >= COPY_START_LETTERS
        ),
        None,
    )
    return None if n is None else words[:n]


def _wrong(text: str, accepted: set[str]) -> bool:
    """Whether ``text`` has enough letters to judge and is clearly in another language than ``accepted``."""
    if judged_letters(text) < MIN_LETTERS:
        return False
    scores = dict(identifier().rank(_UNJUDGED.sub(" ", text)))
    if max(scores, key=scores.__getitem__) in accepted:
        return False
    return bool(sum(scores.get(label, 0.0) for label in accepted) < MIN_TARGET_PROBABILITY)


def copied_share(source_text: str, output: str) -> float:
    """The share of ``output``'s word trigrams (without names) found in ``source_text``; 0 when too few."""
    grams = _trigrams(output)
    if len(grams) < MIN_TRIGRAMS:
        return 0.0
    seen = set(_trigrams(source_text))
    return sum(gram in seen for gram in grams) / len(grams)


def in_wrong_language(source_text: str, output: str, *, source: str, target: str) -> bool:
    """Whether ``output`` (a translation of ``source_text``) is, in whole or in part, not in ``target``:
    a sentence (or clause) in another language, a sentence copied, or mostly a copy of the source."""
    if indistinguishable(source, target):
        return False
    if copied_share(source_text, output) >= MAX_COPIED_SHARE:
        return True
    return bool(
        wrong_sentences(output, target=target) or copied_sentences(source_text, output, target=target)
    )


def _trigrams(text: str) -> list[tuple[str, str, str]]:
    words = [w.lower() for w in _WORD.findall(_UNJUDGED.sub(" ", text)) if not w[0].isupper()]
    return [(words[i], words[i + 1], words[i + 2]) for i in range(len(words) - 2)]
