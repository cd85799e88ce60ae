import pytest

from dcgan_lib.config import quick_mode, sizes


@pytest.mark.parametrize(
    "value, expected", [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_quick_mode_reads_env(monkeypatch, value, expected):
    monkeypatch.setenv("DCGAN_QUICK", value)
    assert quick_mode() is expected


def test_quick_mode_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("DCGAN_QUICK", "maybe")
    with pytest.raises(ValueError, match="DCGAN_QUICK"):
        quick_mode()


def test_sizes_picks_and_prints(monkeypatch, capsys):
    monkeypatch.setenv("DCGAN_QUICK", "1")
    cfg = sizes(iterations=(20_000, 300), batch=(128, 64))
    assert (cfg.iterations, cfg.batch) == (300, 64)
    assert "QUICK" in capsys.readouterr().out
    monkeypatch.delenv("DCGAN_QUICK")
    assert sizes(iterations=(20_000, 300), verbose=False).iterations == 20_000


def test_sizes_needs_pairs():
    with pytest.raises(TypeError, match="pair"):
        sizes(iterations=5, verbose=False)
