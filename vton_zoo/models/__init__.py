"""One file per method. Importing this package imports every model module, which registers it.

Modules whose name starts with an underscore hold shared building blocks and register nothing.
"""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
