"""Dataset readers for the official try-on layouts, per-method training datasets, and synthetic datasets.

- :mod:`vton_zoo.data.readers`: :class:`VitonReader` (CP-VTON's VITON), :class:`VitonCleanReader` (PF-AFN /
  DM-VTON), :class:`VitonHDReader`, :class:`DressCodeReader`, :func:`open_dataset`; each validates its folder.
- :mod:`vton_zoo.data.datasets`: :class:`FlowTryOnDataset` (PF-AFN, DM-VTON, RMGN), :class:`DAFlowDataset`,
  :class:`GPVTONDataset`, :class:`CPVTONDataset`, :func:`build_dataset`.
- :mod:`vton_zoo.data.schemes`: the datasets' parse label sets.
- :mod:`vton_zoo.data.synthetic`: :func:`make_synthetic`, tiny datasets in every layout for tests.
"""

from .datasets import (
    CPVTONDataset,
    DAFlowDataset,
    FlowTryOnDataset,
    GPVTONDataset,
    TryOnDataset,
    build_dataset,
)
from .readers import (
    DressCodeReader,
    Example,
    LayoutReader,
    Pair,
    VitonCleanReader,
    VitonHDReader,
    VitonReader,
    open_dataset,
)
from .schemes import ATR, CIHP, LIP, VITON14, ParseScheme, get_scheme
from .synthetic import make_synthetic

__all__ = [
    "ATR",
    "CIHP",
    "LIP",
    "VITON14",
    "CPVTONDataset",
    "DAFlowDataset",
    "DressCodeReader",
    "Example",
    "FlowTryOnDataset",
    "GPVTONDataset",
    "LayoutReader",
    "Pair",
    "ParseScheme",
    "TryOnDataset",
    "VitonCleanReader",
    "VitonHDReader",
    "VitonReader",
    "build_dataset",
    "get_scheme",
    "make_synthetic",
    "open_dataset",
]
