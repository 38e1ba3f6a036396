"""vton-zoo: the published flow-based virtual try-on networks behind one interface.

>>> import vton_zoo
>>> vton_zoo.list_models()                                  # doctest: +SKIP
>>> model = vton_zoo.load_official("pf-afn", "warp_model_final.pth", "gen_model_final.pth")  # doctest: +SKIP
>>> out = model({"person": p, "garment": g, "garment_mask": m})  # doctest: +SKIP

Importing the package registers the models and does nothing else: no download, no CUDA initialisation.
"""

__version__ = "0.1.0"

from . import models  # noqa: E402, F401  (importing the model files registers them)
from .checkpoints import create_model, load_official, save_safetensors  # noqa: E402
from .registry import ModelSpec, get_spec, list_models, register_model  # noqa: E402

__all__ = [
    "ModelSpec",
    "TryOnPipeline",
    "TryOnResult",
    "__version__",
    "create_model",
    "get_spec",
    "list_models",
    "load_official",
    "register_model",
    "save_safetensors",
]


_LAZY = {"TryOnPipeline": "pipeline", "TryOnResult": "pipeline"}


def __getattr__(name: str):
    # The pipeline pulls in the preprocessing stack (scipy, MediaPipe on first use): import it only when asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
