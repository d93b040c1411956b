"""Image translation: reading images, the image prompt, and the TranslateGemma-shaped fixture end to end.

The fixture's weights are random, so the end-to-end tests assert the path — the image's token count, the
stop, a decoded output, prompt parity with transformers — not the words.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tg_edge import InputError, Translator
from tg_edge.errors import ModelError
from tg_edge.images import MAX_IMAGE_SIDE, read_image
from tg_edge.languages import resolve_language
from tg_edge.models.spec import choose_projector
from tg_edge.prompts import TranslateGemmaProfile

from .conftest import run_cli

DATA = Path(__file__).parent / "data"
MODEL = "tiny-gemma3-mm-Q8_0.gguf"
PROJECTOR = "mmproj-tiny-gemma3-mm-BF16.gguf"


def sign(text: str = "Ausgang", size: tuple[int, int] = (160, 64), fmt: str = "PNG") -> bytes:
    """A picture of a sign with ``text`` on it."""
    image = Image.new("RGB", size, (250, 250, 240))
    ImageDraw.Draw(image).text((10, 20), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


# -- reading images -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"Ausgang, nicht Eingang\n", "not an image of a format tg-edge reads"),
        (sign()[:200], "the image is truncated or corrupt"),
    ],
)
def test_bad_image_bytes_are_refused_by_name(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=f"^menu.png: {message}"):
        read_image(data, name="menu.png")


def test_absurd_dimensions_are_refused_before_decoding(tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    Image.new("L", (MAX_IMAGE_SIDE + 1, 1)).save(wide)
    with pytest.raises(InputError, match=rf"{wide}: {MAX_IMAGE_SIDE + 1}×1 pixels is over"):
        read_image(wide)
    huge = tmp_path / "huge.png"
    Image.new("1", (8000, 8000)).save(huge)  # 64 megapixels in a few kB
    with pytest.raises(InputError, match="8000×8000 pixels is over"):
        read_image(huge)


def test_missing_files_and_directories_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(InputError, match="it is a directory"):
        read_image(tmp_path)


def test_photos_are_turned_upright_and_transparency_lies_on_white() -> None:
    photo = Image.new("RGB", (40, 20), (10, 20, 30))
    exif = photo.getexif()
    exif[0x0112] = 6  # orientation: rotated 90° clockwise, as a phone held upright writes it
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)
    upright = read_image(out.getvalue())
    assert (upright.width, upright.height) == (20, 40)
    assert len(upright.pixels) == 20 * 40 * 3

    clear = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(clear, "PNG")
    assert set(read_image(clear.getvalue()).pixels) == {255}


def test_projector_is_chosen_by_name_then_by_the_least_quantized() -> None:
    model = "translategemma-4b-it.Q4_K_M.gguf"
    assert choose_projector([model, "README.md"], model) is None
    assert choose_projector([model, "mmproj-model-f16.gguf"], model) == "mmproj-model-f16.gguf"
    assert (
        choose_projector(
            [
                model,
                "translategemma-4b-it.mmproj-Q8_0.gguf",
                "translategemma-4b-it.mmproj-f16.gguf",
                "mmproj-other.gguf",
            ],
            model,
        )
        == "translategemma-4b-it.mmproj-f16.gguf"
    )
    with pytest.raises(ModelError, match="several vision projectors go with"):
        choose_projector([model, "mmproj-a-f16.gguf", "mmproj-b-f16.gguf"], model)


def test_image_prompt_is_the_published_template_with_gemma3s_image_expansion() -> None:
    template = (DATA / "translategemma_chat_template.jinja").read_text(encoding="utf-8")
    ja, en = resolve_language("ja"), resolve_language("en")
    from_template = TranslateGemmaProfile(template, bos_token="<bos>", eos_token="<eos>")
    written_out = TranslateGemmaProfile(None, bos_token="<bos>", eos_token="<eos>")
    text = from_template.render_image(ja, en, marker="<IMG>").text
    assert text == written_out.render_image(ja, en, marker="<IMG>").text
    assert text.startswith(
        "<bos><start_of_turn>user\nYou are a professional Japanese (ja) to English (en) translator."
    )
    assert text.endswith(
        "Ignore symbols, pictogram, and arrows!\n\n\n\n\n<IMG>\n\n<end_of_turn>\n<start_of_turn>model\n"
    )


# -- the TranslateGemma-shaped fixture end to end ------------------------------------------------------------


@pytest.fixture(scope="module")
def vision(tiny_translategemma: Path) -> Translator:
    with Translator(tiny_translategemma / MODEL, threads=2, n_ctx=2048, parallel=2) as translator:
        yield translator


@pytest.mark.integration
def test_translate_image_runs_the_image_through_the_projector(vision: Translator, tmp_path: Path) -> None:
    path = tmp_path / "sign.png"
    path.write_bytes(sign())
    result = vision.translate_image(path, source="de", target="en")
    assert result.image == str(path) and result.image_tokens == 4  # (128 / 16 / 4)² after llama.cpp's pooling
    segment = result.segments[0]
    assert segment.stop in {"eos", "length", "loop"} and segment.new_tokens > 0
    assert isinstance(result.text, str) and result.image_seconds > 0
    assert vision._runtime.projector().path.name == PROJECTOR  # found beside the model by itself
    again = vision.translate_image(path.read_bytes(), source="de", target="en", name="sign.png")
    assert again.text == result.text  # bytes or a path: the same pixels, the same greedy output


@pytest.mark.integration
def test_images_translated_at_once_from_several_threads_each_get_their_own(vision: Translator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    signs = [sign("Ausgang"), sign("Kasse", size=(100, 100)), sign("Notruf", fmt="JPEG")]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda data: vision.translate_image(data, source="de", target="en"), signs))
    for result in results:  # each decoded from its own prefilled sequence, none lost or mixed up
        assert result.image_tokens == 4 and result.segments[0].new_tokens > 0
        assert result.segments[0].stop in {"eos", "length", "loop"}
    assert (
        vision.translate_image(signs[0], source="de", target="en").text
        == vision.translate_image(signs[0], source="de", target="en").text
    )  # alone on an idle model: reproducible


@pytest.mark.integration
def test_image_prompt_tokens_equal_transformers_processor(vision: Translator, checkpoints: Path) -> None:
    """The token ids around the image are what Gemma3Processor and the chat template give for the message."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(checkpoints / "tiny-gemma3-mm")
    picture = Image.open(io.BytesIO(sign()))
    message = [
        {
            "role": "user",
            "content": [
                {"type": "image", "source_lang_code": "de", "target_lang_code": "en", "image": picture},
            ],
        }
    ]
    expected = processor.apply_chat_template(
        message, add_generation_prompt=True, tokenize=True, return_dict=True
    )
    ids = list(expected["input_ids"][0])
    soft = processor.tokenizer.image_token_id
    reference = ["IMAGE" if token == soft else token for token in ids]

    prompt = vision._image_prompt(sign(), vision.language("de"), vision.language("en"))
    try:
        ours: list[object] = []
        for chunk in prompt.chunks:
            ours += list(chunk.tokens) if chunk.kind == "text" else ["IMAGE"] * chunk.n_tokens
        assert [chunk.kind for chunk in prompt.chunks] == ["text", "image", "text"]
    finally:
        prompt.close()
    assert ours == reference
    assert reference.count("IMAGE") == 4


@pytest.mark.integration
def test_cli_translates_images_to_stdout_a_file_and_a_directory(vision: Translator, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(sign())
    (tmp_path / "b.jpg").write_bytes(sign("Notausgang", fmt="JPEG"))
    one = run_cli("translate", "-s", "de", "-t", "en", "--image", str(tmp_path / "a.png"), translator=vision)
    assert one.returncode == 0, one.stderr.decode()
    assert one.stdout.decode().endswith("\n") and "==>" not in one.stdout.decode()

    two = run_cli(
        "translate",
        "-s",
        "de",
        "-t",
        "en",
        "--image",
        str(tmp_path / "a.png"),
        "--image",
        str(tmp_path / "b.jpg"),
        translator=vision,
    )
    assert two.returncode == 0, two.stderr.decode()
    assert two.stdout.decode().startswith(f"==> {tmp_path / 'a.png'} <==\n{one.stdout.decode()}\n==> ")

    as_json = run_cli(
        "translate", "-s", "de", "-t", "en", "--image", str(tmp_path / "a.png"), "--json", translator=vision
    )
    details = json.loads(as_json.stdout)
    assert details["image_tokens"] == 4 and details["translation"] + "\n" == one.stdout.decode()

    written = run_cli(
        "translate",
        "-s",
        "de",
        "-t",
        "en",
        "--image",
        str(tmp_path / "a.png"),
        "-o",
        str(tmp_path / "a.txt"),
        translator=vision,
    )
    assert written.returncode == 0 and (tmp_path / "a.txt").read_bytes() == one.stdout

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(tmp_path / "a.png", docs / "a.png")
    (docs / "note.txt").write_text("Guten Morgen.\n", encoding="utf-8")
    folder = run_cli(
        "translate", "-s", "de", "-t", "en", "-i", str(docs), "-o", str(tmp_path / "out"), translator=vision
    )
    assert folder.returncode == 0, folder.stderr.decode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png.txt", "note.txt"]
    assert (tmp_path / "out" / "a.png.txt").read_bytes() == one.stdout


def projector_gguf(projection_dim: int) -> bytes:
    """A GGUF header of a vision projector (architecture clip) for a model of ``projection_dim`` wide embeddings."""

    def string(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()

    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 2)
    header += string("general.architecture") + struct.pack("<I", 8) + string("clip")
    header += string("clip.vision.projection_dim") + struct.pack("<I", 4) + struct.pack("<I", projection_dim)
    return header + b"\0" * (-len(header) % 32)


@pytest.mark.integration
def test_images_and_projectors_that_cannot_work_are_clear_errors(
    vision: Translator, tiny_translategemma: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "menu.png"
    fake.write_text("Speisekarte\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    bad = run_cli(
        "translate", "-s", "de", "-t", "en", "--image", str(fake), "-o", str(out), translator=vision
    )
    assert bad.returncode == 1 and f"{fake}: not an image".encode() in bad.stderr and not out.exists()

    auto = run_cli("translate", "-s", "auto", "-t", "en", "--image", str(tmp_path / "x.png"))
    assert auto.returncode == 2 and b"source language cannot be detected" in auto.stderr
    json_to_file = run_cli(
        "translate", "-s", "de", "-t", "en", "--image", str(fake), "--json", "-o", str(out)
    )
    assert json_to_file.returncode == 2 and b"prints to stdout" in json_to_file.stderr and not out.exists()

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tiny_translategemma / MODEL, alone / MODEL)
    (alone / "sign.png").write_bytes(sign())
    missing = run_cli(
        "translate", "-s", "de", "-t", "en", "--image", str(alone / "sign.png"), "-m", str(alone / MODEL)
    )
    assert missing.returncode == 2 and b"has no vision projector beside it" in missing.stderr
    assert b"Traceback" not in missing.stderr

    other = tmp_path / "mmproj-other-F16.gguf"
    other.write_bytes(projector_gguf(2560))
    mismatch = run_cli(
        "translate",
        "-s",
        "de",
        "-t",
        "en",
        "--image",
        str(alone / "sign.png"),
        "-m",
        str(alone / MODEL),
        "--mmproj",
        str(other),
    )
    assert mismatch.returncode == 2
    assert f"the vision projector {other} was made for another model".encode() in mismatch.stderr
    assert b"embeddings of 2560 values" in mismatch.stderr

    not_one = run_cli(
        "translate",
        "-s",
        "de",
        "-t",
        "en",
        "--image",
        str(alone / "sign.png"),
        "-m",
        str(alone / MODEL),
        "--mmproj",
        str(alone / MODEL),
    )
    assert not_one.returncode == 2 and b"is not a vision projector" in not_one.stderr


@pytest.mark.integration
def test_a_text_only_model_says_it_cannot_read_images(translator: Translator, tmp_path: Path) -> None:
    (tmp_path / "sign.png").write_bytes(sign())
    proc = run_cli(
        "translate", "-s", "de", "-t", "en", "--image", str(tmp_path / "sign.png"), translator=translator
    )
    assert proc.returncode == 2 and b"image translation needs a TranslateGemma model" in proc.stderr  # usage


@pytest.mark.integration
def test_server_translates_an_uploaded_image(vision: Translator) -> None:
    from .servers import call, multipart, running_server

    with running_server(vision) as (url, _):
        body, headers = multipart({"source": "de", "target": "en"}, "file", "sign.png", sign())
        reply = call("POST", f"{url}/translate_image", body, headers=headers)
        assert reply.status == 200, reply.body
        assert isinstance(reply.json()["translatedText"], str)

        body, headers = multipart({"source": "de", "target": "en"}, "file", "menu.png", b"not a picture")
        refused = call("POST", f"{url}/translate_image", body, headers=headers)
        assert refused.status == 400 and "menu.png: not an image" in refused.json()["error"]

        body, headers = multipart({"source": "auto", "target": "en"}, "file", "sign.png", sign())
        auto = call("POST", f"{url}/translate_image", body, headers=headers)
        assert auto.status == 400 and "cannot be detected" in auto.json()["error"]
