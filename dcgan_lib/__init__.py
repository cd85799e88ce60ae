"""dcgan_lib: the small library shared by the DCGAN course's chapters.

    import dcgan_lib as dl
    (x_train, y_train), (x_test, y_test) = dl.load_mnist()

Its modules, in the order the chapters meet them: config (run sizes), data, inspection,
models, train_on_batch, plotting and progress in Chapter 1; gan, callbacks and checkpoints in
Chapter 3; quality, confusion, widgets and checks in Chapter 4; speed and distribute in Appendix A;
conditional in Chapter 5, architectures and artefacts in Chapter 6 (used as ``dl.<module>``);
runs, rejection and cli make the command line.
Each public function's docstring names the chapter that defines and shows it. Importing the
package imports TensorFlow quietly.
"""

from types import ModuleType as _ModuleType

from ._startup import import_tensorflow as _import_tensorflow

_import_tensorflow()

# Each module's __all__ is what it exports.
from . import architectures, artefacts, clusters, conditional  # noqa: E402, F401  dl.<module>.<name>
from .callbacks import *  # noqa: E402, F403
from .checkpoints import *  # noqa: E402, F403
from .checks import *  # noqa: E402, F403
from .config import *  # noqa: E402, F403
from .confusion import *  # noqa: E402, F403
from .data import *  # noqa: E402, F403
from .distribute import *  # noqa: E402, F403
from .gan import *  # noqa: E402, F403
from .inspection import *  # noqa: E402, F403
from .models import *  # noqa: E402, F403
from .plotting import *  # noqa: E402, F403
from .progress import *  # noqa: E402, F403
from .quality import *  # noqa: E402, F403
from .speed import *  # noqa: E402, F403
from .train_on_batch import *  # noqa: E402, F403
from .widgets import *  # noqa: E402, F403

__version__ = "0.1.0"
__all__ = sorted(
    name
    for name, value in dict(globals()).items()  # the submodules are not part of it
    if not name.startswith("_") and not isinstance(value, _ModuleType)
)
