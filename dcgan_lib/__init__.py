"""dcgan_lib: the small library shared by the DCGAN course's chapters.

Use it the way the chapters do::

    import dcgan_lib as dl
    (x_train, y_train), (x_test, y_test) = dl.load_mnist()

Each function's docstring names the chapter that teaches it. Importing this
package imports TensorFlow (quietly: its start-up log lines are kept off
stderr); TensorFlow itself is left to the platform (Colab has it; ``make
install`` picks the right wheel elsewhere).
"""
from ._quiet import import_tensorflow as _import_tensorflow

_import_tensorflow()

from .config import quick_mode, sizes  # noqa: E402
from .data import (  # noqa: E402
    load_idx_mnist,
    load_mnist,
    load_npz_mnist,
    make_dataset,
    read_idx,
    to_model_range,
    write_idx,
)
from .models import *  # noqa: E402,F401,F403
from .training import *  # noqa: E402,F401,F403
from .plotting import *  # noqa: E402,F401,F403
from .utils import *  # noqa: E402,F401,F403
from .gan_model import *  # noqa: E402,F401,F403
from .callbacks import *  # noqa: E402,F401,F403
from .checkpoints import *  # noqa: E402,F401,F403
from .metrics import *  # noqa: E402,F401,F403
from .widgets import *  # noqa: E402,F401,F403
from .checks import *  # noqa: E402,F401,F403

from .exercises import *  # noqa: E402,F401,F403
from .distribute import *  # noqa: E402,F401,F403
from .speed import *  # noqa: E402,F401,F403

__version__ = "0.1.0"
