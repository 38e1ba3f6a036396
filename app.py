"""vton-zoo demo: every try-on method side by side (Gradio; also the Hugging Face Space entry point).

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--download-weights]

The page is built by :func:`vton_zoo.demo.ui.build_demo`; no model loads before a method first runs. Without
``--host``/``--port`` Gradio's ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` apply (a Space sets them).

- On a Space (``SPACE_ID`` set) or with ``--download-weights``, every missing official weights file with a live
  source is fetched in the background from the start; methods turn ready as their files land, and the page shows
  the progress.
- Weight management (download, install) is an administrator's action: on a Space, with ``--share``, or bound to
  anything but loopback it is off (no controls, no endpoints) unless ``VTON_ZOO_ADMIN_TOKEN`` is set; then the page
  asks for that token and the server checks it on every call.
- The real example photos are fetched in the background too (``VTON_ZOO_EXAMPLES``; drawn ones until they land).
- ``VTON_ZOO_DEMO_RANDOM_WEIGHTS=1`` runs methods without installed weights on random weights (plumbing test).
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry calls from the demo

from vton_zoo import hub  # noqa: E402
from vton_zoo import weights as zoo_weights  # noqa: E402
from vton_zoo.demo import core, examples  # noqa: E402
from vton_zoo.demo.ui import build_demo, launch_kwargs  # noqa: E402

__all__ = ["build_demo", "main"]

logger = logging.getLogger("vton_zoo.app")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="interface (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--download-weights", action="store_true",
                        help="fetch every missing official weights file in the background (always on a Space)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("VTON_ZOO_LOG", "INFO"), format="%(asctime)s %(name)s: %(message)s")

    for line in zoo_weights.cleanup_interrupted():  # what a killed install left behind
        logger.info("%s", line)
    policy = core.admin_policy(args.host)
    if args.share and not policy.public:
        policy = core.AdminPolicy(public=True, token=policy.token)
    cache = core.PipelineCache()
    fetch = None
    if args.download_weights or os.environ.get("SPACE_ID"):
        fetch = zoo_weights.BackgroundFetch(on_installed=lambda name, folder: cache.clear(name)).start()
    if not hub.is_offline():
        examples.fetch_in_background()
    demo = build_demo(cache, policy=policy, fetch=fetch)
    logger.info("weight management: %s", policy.describe())
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                allowed_paths=examples.allowed_paths(), **launch_kwargs(policy))


if __name__ == "__main__":
    main()
