"""TRANSITIONAL during the issue-12 redesign: imports every module's __all__ that exists."""
import importlib as _importlib

from ._startup import import_tensorflow as _import_tensorflow

_import_tensorflow()

for _name in ("config", "data", "inspection", "models", "train_on_batch", "plotting", "gan",
              "callbacks", "checkpoints", "quality", "confusion", "widgets", "checks",
              "exercises", "speed", "distribute"):
    try:
        _module = _importlib.import_module(f".{_name}", __name__)
    except ImportError as _err:
        if f"dcgan_lib.{_name}" not in str(_err) and _name not in str(_err):
            raise
        continue
    globals().update({_k: getattr(_module, _k) for _k in getattr(_module, "__all__", [])})

__version__ = "0.1.0"
