"""The scheduler's two halves without a model: the caller's Job handle and the decoding thread's Slot."""

import dataclasses

import pytest

from tg_edge.errors import TgEdgeError
from tg_edge.generation import Generation, Stop
from tg_edge.slots import Job, Outcome, Request, Slot, SlotState, Task, end


def _generation(text: str = "Hallo") -> Generation:
    return Generation(text, (1, 2), 3, 2, 0, Stop.EOS, 0.1, 0.05, 0.2)


def _request(
    prompt: tuple[int, ...] = (5, 6, 7), *, stream: bool = False, seen: list | None = None
) -> Request:
    outcome = Outcome(stream)
    on_done = seen.append if seen is not None else None
    return Request(Job(Task(prompt, max_tokens=4, on_done=on_done), outcome), outcome)


def test_a_task_is_immutable_once_submitted() -> None:
    task = Task((1, 2, 3), max_tokens=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.max_tokens = 9  # type: ignore[misc]


def test_the_handle_waits_for_the_end_the_decoding_thread_delivers() -> None:
    seen: list[Job] = []
    request = _request(stream=True, seen=seen)
    job = request.job
    with pytest.raises(TimeoutError):
        job.result(timeout=0.01)
    request.outcome.emit("Hal")
    request.outcome.emit("")  # nothing to say: not a piece
    request.outcome.emit("lo")
    end(request, _generation())
    assert job.done and list(job.pieces()) == ["Hal", "lo"]
    assert job.result().text == "Hallo" and seen == [job]  # the callback heard of the end once


def test_an_error_that_ended_a_job_is_raised_to_its_caller() -> None:
    request = _request()
    end(request, TgEdgeError("the decoding thread stopped"))
    with pytest.raises(TgEdgeError, match="decoding thread stopped"):
        request.job.result()
    with pytest.raises(ValueError, match="stream=True"):
        next(iter(request.job.pieces()))


def test_cancelling_the_handle_is_seen_by_the_decoding_thread() -> None:
    request = _request()
    assert not request.cancelled
    request.job.cancel()
    assert request.cancelled and request.job.cancelled and not request.job.done


def test_a_slot_walks_its_prompt_then_decodes() -> None:
    request = _request((5, 6, 7, 8, 9))
    slot = Slot(request, seq=2, shared=2, prefix_generation=1)
    assert slot.state is SlotState.PROMPTING and slot.reused == slot.pos == 2
    assert slot.take_prompt(2) == [7, 8] and slot.pos == 4 and slot.pending == [9]
    assert slot.take_prompt(8) == [9] and not slot.pending
    slot.decoding(42)
    assert slot.state is SlotState.DECODING and slot.next_token == 42
    assert request.task.prompt == (5, 6, 7, 8, 9)  # the task never changes
