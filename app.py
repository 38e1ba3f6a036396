"""vton-zoo demo: every try-on method side by side (Gradio; also the Hugging Face Space entry point).

    python app.py [--host 127.0.0.1] [--port 7860]

The page is built by :func:`vton_zoo.demo.ui.build_demo`; no model loads before a method first runs. Without
``--host``/``--port`` Gradio's ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` apply (a Space sets them).
``VTON_ZOO_DEMO_RANDOM_WEIGHTS=1`` runs methods without installed weights on random weights (plumbing test).
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry calls from the demo

from vton_zoo.demo.examples import examples  # noqa: E402
from vton_zoo.demo.ui import build_demo  # noqa: E402

__all__ = ["build_demo", "main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="interface (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("VTON_ZOO_LOG", "INFO"), format="%(asctime)s %(name)s: %(message)s")
    demo = build_demo()
    persons, garments = examples()  # may live outside the working folder (e.g. $VTON_ZOO_HOME/examples)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=True,
                footer_links=["api", "gradio"], allowed_paths=sorted({str(p.parent) for p in persons + garments}))


if __name__ == "__main__":
    main()
