"""Time an image's way through tg-edge: encoding and prompt evaluation, time to first token, the whole call.

    python benchmarks/image.py -m translategemma-4b [--image menu.jpg] [--runs 5] [--threads 2]

Without ``--image`` a 896×600 JPEG of a sign is drawn. One warm-up call, then the median of ``--runs`` calls
of ``Translator.translate_image`` (de → en); the model needs its vision projector beside it (or --mmproj).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from PIL import Image, ImageDraw

from tg_edge import Translator


def sign() -> bytes:
    image = Image.new("RGB", (896, 600), (250, 250, 240))
    ImageDraw.Draw(image).text((40, 40), "Notausgang", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-m", "--model", required=True)
    parser.add_argument("--mmproj")
    parser.add_argument("--image")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    data = open(args.image, "rb").read() if args.image else sign()  # noqa: SIM115
    with Translator(
        args.model, threads=args.threads, n_ctx=2048, parallel=2, mmproj=args.mmproj
    ) as translator:
        translator.translate_image(data, source="de", target="en")
        encode, first, whole = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = translator.translate_image(data, source="de", target="en")
            whole.append(time.perf_counter() - started)
            encode.append(result.image_seconds)
            first.append(result.segments[0].first_token_seconds)
    segment = result.segments[0]
    print(
        f"{result.image_tokens} image tokens, {segment.new_tokens} new tokens (stop: {segment.stop}); median of "
        f"{args.runs}: encode + prompt {statistics.median(encode) * 1000:.1f} ms, first token "
        f"{statistics.median(first) * 1000:.1f} ms, whole call {statistics.median(whole):.3f} s"
    )


if __name__ == "__main__":
    main()
