"""Plain text read in bounded blocks: a huge one-line input is cut without reading it whole."""

from __future__ import annotations

import io

import pytest

from tg_edge.errors import InputError
from tg_edge.jobs.text import text_blocks


class CountingReader(io.BytesIO):
    """An in-memory file that remembers how many bytes were read from it so far."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


def test_a_huge_single_line_is_cut_into_bounded_blocks_without_reading_it_whole() -> None:
    sentence = "The museum opens at nine o'clock, and the café next to it a little later. "
    data = (sentence * 70_000).encode("utf-8")  # about 5 MB on one line
    reader = CountingReader(data)
    blocks = text_blocks(reader, "big.txt", 12_000)
    first = next(blocks)
    assert reader.taken <= 2 * 12_000  # the first block comes before the rest of the file is read
    assert first.line == 1 and first.text.endswith(". ") and first.size <= 1_500  # small: out soon
    rest = list(blocks)
    assert all(block.size <= 12_000 and block.line == 1 for block in rest)
    assert 1_500 < rest[0].size <= 3_000 < rest[1].size <= 6_000 < rest[2].size  # doubling up to 12,000
    assert first.text + "".join(block.text for block in rest) == data.decode("utf-8")
    assert all(block.text.endswith(". ") for block in rest)  # cut after a sentence, never inside one


def test_lines_are_kept_whole_and_numbered_and_text_without_spaces_is_cut_between_characters() -> None:
    text = "".join(f"Line {n} says hello.\n" for n in range(1, 2000))
    blocks = list(text_blocks(io.BytesIO(text.encode()), "lines.txt", 1000))
    assert "".join(b.text for b in blocks) == text
    assert all(b.text.endswith("\n") for b in blocks)
    assert [b.line for b in blocks] == [
        1 + sum(x.text.count("\n") for x in blocks[:i]) for i in range(len(blocks))
    ]
    assert all(b.text.startswith(f"Line {b.line} ") for b in blocks)
    cjk = "東京の天気はとても良い" * 3000  # no space, no full stop: cut between whole characters
    pieces = list(text_blocks(io.BytesIO(cjk.encode()), "cjk.txt", 1000))
    assert "".join(p.text for p in pieces) == cjk and all(p.size <= 1000 for p in pieces)


def test_bad_bytes_are_named_by_their_line() -> None:
    data = b"Hello.\n" * 500 + b"bad \xff byte\n"
    with pytest.raises(InputError, match=r"line 501, column 5"):
        list(text_blocks(io.BytesIO(data), "bad.txt", 600))
    with pytest.raises(InputError, match=r"a NUL byte on line 301"):
        list(text_blocks(io.BytesIO(b"Hello.\n" * 300 + b"\x00\n"), "nul.txt", 600))
    assert list(text_blocks(io.BytesIO(b""), "empty.txt")) == []
