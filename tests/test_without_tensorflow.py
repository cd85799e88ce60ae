"""Without TensorFlow, `import dcgan_lib` and the CLI's --help say in one line how to install it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

BLOCK = """import sys
class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTensorFlow())
"""
SCRIPT = Path(sys.executable).with_name("dcgan")  # the console script, when installed


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-c", "import dcgan_lib"],
        [sys.executable, "-m", "dcgan_lib", "--help"],
        [str(SCRIPT), "--help"],
    ],
)
def test_missing_tensorflow_is_one_line_saying_how_to_install_it(tmp_path, argv):
    if not Path(argv[0]).is_file():
        pytest.skip(f"{argv[0]} is not installed")
    (tmp_path / "sitecustomize.py").write_text(BLOCK)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    result = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: dcgan_lib needs TensorFlow 2.21"), line
    wheel = "tensorflow-cpu==2.21.*" if sys.platform.startswith("linux") else "tensorflow==2.21.*"
    if "and-cuda" not in line:
        assert f"pip install '{wheel}'" in line and "make install" in line, line
