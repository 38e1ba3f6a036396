"""Faster inference for any zoo model without changing its weights: channels_last, torch.compile, autocast
(bf16 on CPUs with AMX/AVX-512 BF16, fp16 on GPU) and CUDA graphs.

``fast = InferenceRunner(model, channels_last=True, compile=True)``; ``fast(inputs)`` returns the same dict as
``model(inputs)``. In fp32 (no autocast) the outputs stay within float rounding of the eager model; the benchmarks
print that difference next to the timings.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

import torch

from .models._base import TryOnModel

logger = logging.getLogger(__name__)


class InferenceRunner:
    """Wraps a model for inference with optional speed-ups.

    Args:
        model: a zoo model (put in eval mode here).
        channels_last: convert the weights and 4-D inputs to the NHWC memory format (oneDNN/cuDNN favour it).
        compile: ``torch.compile`` the forward (inductor); the first call per input shape compiles.
        autocast_dtype: ``torch.bfloat16`` / ``torch.float16`` to run convolutions in low precision.
        cuda_graphs: capture the whole forward in a CUDA graph per input shape and replay it (GPU only).
        low_precision_parts: with ``autocast_dtype``, run only these sub-networks (names from
            ``model.spec.official_parts``, e.g. ``("gen",)``) in low precision and keep the rest in fp32. Keeping
            the flow estimator in fp32 keeps the warp geometry exact: low-precision errors in a coarse-to-fine flow
            compound across pyramid levels and move whole garment regions, while a generator's errors stay local.
    """

    def __init__(self, model: TryOnModel, *, channels_last: bool = False, compile: bool = False,
                 autocast_dtype: torch.dtype | None = None, cuda_graphs: bool = False,
                 compile_mode: str | None = None, low_precision_parts: tuple[str, ...] | None = None) -> None:
        self.model = model.eval()
        self.device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.channels_last = channels_last
        self.autocast_dtype = autocast_dtype
        if low_precision_parts is not None and autocast_dtype is not None:
            parts = tuple(model.spec.official_parts)
            unknown = [name for name in low_precision_parts if name not in parts]
            if unknown:
                raise ValueError(f"low_precision_parts {unknown} not in {model.spec.name}'s parts {list(parts)}")
            for name in low_precision_parts:
                _autocast_forward(getattr(model, name), self.device.type, autocast_dtype)
            self.autocast_dtype = None  # the rest of the model runs in fp32
        self.cuda_graphs = cuda_graphs and self.device.type == "cuda"
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        if compile and self.device.type == "cpu":
            # Freezing lets inductor fold conv+BN and pre-pack weights for oneDNN (inference only).
            import torch._inductor.config as inductor_config

            inductor_config.freezing = True
        self._forward = torch.compile(self.model, mode=compile_mode, dynamic=False) if compile else self.model
        self._graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, dict, dict]] = {}

    def _prepare(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for key, value in inputs.items():
            value = value.to(self.device, non_blocking=True)
            if self.channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
            out[key] = value
        return out

    def _autocast(self):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _run(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        with torch.inference_mode(), self._autocast():
            return self._forward(inputs)

    def __call__(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        inputs = self._prepare(inputs)
        if not self.cuda_graphs:
            return self._run(inputs)
        key = tuple((k, tuple(v.shape), v.dtype) for k, v in sorted(inputs.items()))
        if key not in self._graphs:
            self._graphs[key] = self._capture(inputs)
        graph, static_in, static_out = self._graphs[key]
        for name, value in inputs.items():
            static_in[name].copy_(value)
        graph.replay()
        return {name: value.clone() for name, value in static_out.items()}

    def _capture(self, inputs: dict[str, torch.Tensor]):
        static_in = {k: v.clone() for k, v in inputs.items()}
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up: cuDNN autotuning, CuPy kernel compilation, lazy inits
                self._run(static_in)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self._run(static_in)
        logger.debug("captured a CUDA graph for %s", [tuple(v.shape) for v in inputs.values()])
        return graph, static_in, static_out


def _autocast_forward(module: torch.nn.Module, device_type: str, dtype: torch.dtype) -> None:
    """Make ``module`` run under autocast (instance attribute; the class and other instances are untouched)."""
    forward = module.forward

    def forward_low_precision(*args, **kwargs):
        with torch.autocast(device_type, dtype=dtype):
            out = forward(*args, **kwargs)
        # fp32 out, so the fp32 parts downstream compute as in the eager model
        return _to_float(out)

    module.forward = forward_low_precision


def _to_float(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() and value.dtype != torch.float32 else value
    if isinstance(value, dict):
        return {k: _to_float(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float(v) for v in value)
    return value


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AMX or AVX-512 BF16), read from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
