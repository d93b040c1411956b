"""Formats: reading into segments + skeleton and writing back.

With an identity translation (each segment's translation is its own text) every format must
give its input back byte for byte; with a changed translation, only the segments change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tg_edge.errors import InputError
from tg_edge.formats import format_for, looks_like_markdown, read, reflow

SAMPLES = {
    "txt": "  Hello world.  \n\n\tSecond line, indented.\r\nThird line.\n***\n\nno newline at the end",
    "md": """---
title: My doc
---

# Installing *tg-edge* ##

Run `pip install tg-edge` and then read
[the guide](https://example.com/guide "Guide") for more.
Some **bold words** here, and a footnote.[^1]

> A quote that spans
> two lines.

- First item with <kbd>Ctrl</kbd>+C
  continued here
- [ ] Task item
1. Numbered one

```python
print("hello")  # code stays
```

    indented code stays too

| Name | Value |
|------|-------|
| Speed | fast enough |

<div align="center">raw html block</div>

Setext heading
==============

Line with a hard break \x20
next line. See https://x.org/a_b and snake_case_name.
![An image alt](img.png)
""",
    "html": """<!DOCTYPE html>
<html lang="en">
<head><title>My page &amp; more</title>
<style>p { color: red; }</style>
<script>var s = "do not translate";</script>
</head>
<body>
  <!-- a comment -->
  <h1 class="big">Welcome to <b>tg-edge</b>!</h1>
  <p>This is a paragraph
     that wraps over lines, with an <a href="https://x.org/?a=1&amp;b=2" title='Link title'>inline link</a>.</p>
  <img src="a.png" alt="A cat on a mat"><br/>
  <p translate="no">Brand Name</p>
  <pre><code>x = 1 &lt; 2</code></pre>
  <input placeholder="Search">
  <p>Fish &amp; chips &lt;3 &copy; 2024</p>
</body>
</html>
""",
    "srt": "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello there,</i>\r\nmy old friend.\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:04,000\r\n- Who is it?\r\n- It's me.\r\n\r\n"
    "3\r\n00:00:05,000 --> 00:00:06,000\r\n{\\an8}Up here\r\n",
    "vtt": "WEBVTT - a title\n\nNOTE a note\nover two lines\n\nSTYLE\n::cue { color: lime }\n\n"
    "intro\n00:01.000 --> 00:02.000 align:start position:10%\n<v Bob>I think that we\nshould go &amp; eat.\n\n"
    "00:03.000 --> 00:04.000\nOK, see you <00:03.500>later.\n",
    "jsonl": '{"id": 7, "instruction":"Say hi\\nplease",  "output" : "Hi \\u00e9!", "n": 1.50e3, '
    '"messages":[{"role":"user","content":"Hello"}]}\n\n{"instruction": "Last one", "output": null}',
}
FIELDS = "instruction,output,messages.*.content"


def read_sample(name: str, text: str | None = None):
    options = {"fields": FIELDS} if name == "jsonl" else {}
    return read(SAMPLES[name] if text is None else text, f"sample.{name}", name, **options)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_identity_translation_gives_the_file_back_byte_for_byte(name: str) -> None:
    document = read_sample(name)
    assert document.segments, "every sample has something to translate"
    assert document.source == SAMPLES[name]
    assert document.render([s.text for s in document.segments]) == SAMPLES[name]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_changed_translation_changes_only_the_segments(name: str) -> None:
    document = read_sample(name)
    out = document.render(["Ü" + "x" * (i % 3) for i, _ in enumerate(document.segments)])
    # Reading the output again gives the same skeleton: markup, timings, fields did not move.
    again = read_sample(name, out)
    skeleton = [p for p in document.parts if isinstance(p, str)]
    assert [p for p in again.parts if isinstance(p, str)] == skeleton
    assert [s.text for s in again.segments] == ["Ü" + "x" * (i % 3) for i, _ in enumerate(document.segments)]


def test_markdown_keeps_code_urls_and_markup_out_of_the_segments() -> None:
    texts = [s.text for s in read_sample("md").segments]
    joined = "\n".join(texts)
    for kept in (
        "pip install",
        "https://",
        "print(",
        "indented code",
        "raw html",
        "title:",
        "**",
        "`",
        "|",
        "<kbd>",
    ):
        assert kept not in joined
    assert "A quote that spans two lines." in texts  # wrapped prose is one segment
    assert "Line with a hard break" in texts and "next line. See" in texts  # a hard break ends one


def test_markdown_wrapped_prose_is_written_back_over_as_many_lines_with_prefixes() -> None:
    document = read_sample("md")
    index = [s.text for s in document.segments].index("A quote that spans two lines.")
    translations = [s.text for s in document.segments]
    translations[index] = "Ein Zitat, das sich über zwei Zeilen erstreckt."
    # The original lines hold 18 and 10 characters: the translation keeps that balance.
    assert "> Ein Zitat, das sich über zwei\n> Zeilen erstreckt.\n" in document.render(translations)


def test_html_translates_text_and_readable_attributes_only() -> None:
    document = read_sample("html")
    texts = [s.text for s in document.segments]
    assert "A cat on a mat" in texts and "Link title" in texts and "Search" in texts
    assert "This is a paragraph that wraps over lines, with an" in texts
    assert "Fish & chips <3 © 2024" in texts  # entities are decoded for the model ...
    out = document.render([t + " & <b>" for t in texts])
    assert "Fish &amp; chips &lt;3 © 2024 &amp; &lt;b&gt;" in out  # ... and escaped again
    assert 'alt="A cat on a mat &amp; &lt;b&gt;"' in out and 'placeholder="Search &amp; &lt;b&gt;"' in out
    bare = read("<input placeholder=Search>", "x.html", "html")
    assert bare.render(["Suche hier"]) == '<input placeholder="Suche hier">'  # a bare value gets quotes
    for kept in ("Brand Name", "do not translate", "x = 1 &lt; 2", "color: red", "a comment"):
        assert kept not in texts and kept in out


def test_subtitle_cues_keep_numbers_timings_and_line_structure() -> None:
    document = read_sample("srt")
    assert [s.text for s in document.segments] == [
        "Hello there,",
        "my old friend.",
        "Who is it?",
        "It's me.",
        "Up here",
    ]
    assert [s.line for s in document.segments] == [3, 4, 8, 9, 13]
    vtt = read_sample("vtt")
    assert [s.text for s in vtt.segments] == ["I think that we should go & eat.", "OK, see you", "later."]
    out = vtt.render(["Ich glaube, wir sollten essen gehen.", "OK, bis", "später."])
    assert "<v Bob>Ich glaube, wir\nsollten essen gehen.\n" in out  # two lines stay two lines
    assert "intro\n00:01.000 --> 00:02.000 align:start position:10%\n" in out


def test_jsonl_replaces_only_the_chosen_string_values() -> None:
    document = read_sample("jsonl")
    assert [s.text for s in document.segments] == ["Say hi\nplease", "Hi é!", "Hello", "Last one"]
    out = document.render(['Sag "hallo"\nbitte', "Hallo é!", "Hallo", "Letzte"])
    first = out.split("\n")[0]
    assert first == (
        '{"id": 7, "instruction":"Sag \\"hallo\\"\\nbitte",  "output" : "Hallo é!", "n": 1.50e3, '
        '"messages":[{"role":"user","content":"Hallo"}]}'
    )
    assert json.loads(first)["instruction"] == 'Sag "hallo"\nbitte'
    assert out.endswith('{"instruction": "Letzte", "output": null}')


def test_reflow_balances_lines_and_keeps_breaks() -> None:
    assert (
        reflow("Ich weiß nicht, wovon du redest, mein Freund.", ["\n"], [20, 22])
        == "Ich weiß nicht, wovon\ndu redest, mein Freund."
    )
    assert reflow("a b c d e f g h", ["\n> ", "\n> "], [10, 10, 2]) == "a b c\n> d e f g\n> h"
    assert reflow("Ja", ["\n"], [5, 5]) == "Ja"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "srt",
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\nx\n00:00:03,000 --> 00:00:04,000\nYo\n",
            "line 5: expected a subtitle number, found 'x'",
        ),
        ("srt", "1\n00:00:01,000 -> 00:00:02,000\nHi\n", "line 2: expected a timing line"),
        ("vtt", "1\n00:01.000 --> 00:02.000\nHi\n", "line 1: a WebVTT file starts with 'WEBVTT'"),
        ("vtt", "WEBVTT\n\nno timing here\njust text\n", "line 3: expected a cue timing"),
        ("jsonl", '{"instruction": "ok"}\n{"instruction": "broken\n', "line 2: not valid JSON"),
    ],
)
def test_malformed_files_name_the_file_and_line(name: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as error:
        read_sample(name, text)
    assert f"sample.{name}" in str(error.value)


def test_jsonl_needs_fields() -> None:
    with pytest.raises(InputError, match="--fields"):
        read('{"a": "b"}\n', "x.jsonl", "jsonl")


@pytest.mark.parametrize(
    ("path", "explicit", "expected"),
    [
        ("a.md", None, "md"),
        ("A.SRT", None, "srt"),
        ("x.vtt", None, "vtt"),
        ("d.jsonl", None, "jsonl"),
        ("p.htm", None, "html"),
        ("notes", None, "txt"),
        ("x.md", "txt", "txt"),
    ],
)
def test_format_by_extension_or_explicit(path: str, explicit: str | None, expected: str) -> None:
    assert format_for(Path(path), explicit) == expected


def test_unknown_explicit_format_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="choose one of txt, md, html, srt, vtt, jsonl, docx, pdf"):
        format_for("x", "epub")


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        (SAMPLES["md"], True),
        ("Install it:\n\n```sh\npip install tg-edge\n```\n", True),  # a fenced code block
        ("~~~\ncode\n~~~\n", True),
        ("# Usage\n\nRun `tg-edge --help` first.\n", True),  # a heading and inline code
        ("## Steps\n\n1. Open the box\n2. Plug it in\n", True),  # a heading and a list
        (SAMPLES["txt"], False),
        ("```\n", False),  # a lone fence is not a document
        ("# install\nnpm install\n", False),  # a comment line is not enough
        ("Our #1 priority is **safety**.\n- Alice\n", False),  # no heading, no fence
        ("Dear Anna,\n\nthank you for the letter.\n", False),
    ],
)
def test_looks_like_markdown_is_sure_before_it_says_so(text: str, markdown: bool) -> None:
    assert looks_like_markdown(text) is markdown
