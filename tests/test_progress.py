"""dl.Progress: the bar, the time left, and what it writes to a terminal, a log and a notebook."""

import io
import re

import helpers  # noqa: F401  quiet TensorFlow, DCGAN_MNIST
import numpy as np

import dcgan_lib as dl


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _images(n=256):
    return np.random.default_rng(0).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


def test_text_bar_in_a_log_prints_a_line_per_tenth():
    log = io.StringIO()
    progress = dl.Progress(steps=100, out=log)
    for step in range(1, 101):
        progress(step)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11, lines  # the first report, then 10 %, 20 %, ..., 100 %: none twice
    assert lines[0].startswith("[---") and lines[1].startswith("[##") and "10/100" in lines[1]
    assert re.search(r"about \d+:\d\d left", lines[4]) and lines[-1].endswith("done")
    assert "100%" in lines[-1] and "#" * 24 in lines[-1]


def test_time_budget_bar_rewrites_one_terminal_line():
    tty = Terminal()
    progress = dl.Progress(seconds=3600, out=tty)
    progress(5)
    progress(9)
    text = tty.getvalue()
    assert "\n" not in text and text.count("\r") == 2  # the same line, rewritten
    assert re.search(r"step 9, 0:00 spent, about (59:59|60:00) left$", text)


def test_fit_callback_counts_steps_and_clears_its_line_for_epoch_lines():
    gan = dl.make_gan("dense", seed=0)
    data = dl.resumable_dataset(_images(), 32, seed=0)
    tty = Terminal()
    progress = dl.Progress(out=tty, every=0)  # steps from fit: 2 epochs x 4
    history = dl.EpochHistory(32, verbose=True)
    gan.fit(
        data, epochs=2, steps_per_epoch=4, callbacks=[progress, history], verbose=0, shuffle=False
    )
    assert progress.total == 8 and "step 8/8" in progress.line and progress.line.endswith("done")
    assert tty.getvalue().endswith("\n") and tty.getvalue().count("\r" + " " * 20) == 2
    assert progress.elapsed() > 0


def test_stopped_run_says_stopped_and_notebook_draws_in_place(monkeypatch):
    shown = []

    class Handle:
        def update(self, bundle, raw):
            shown.append(("update", bundle))

    def display(bundle, raw, display_id):
        shown.append(("display", bundle))
        return Handle()

    monkeypatch.setattr("IPython.display.display", display)
    gan = dl.make_gan("dense", seed=0)
    z = np.random.default_rng(0).standard_normal((16, 100)).astype(np.float32)
    progress = dl.Progress(steps=100, fixed_z=z, out="notebook", every=0)
    gan.fit(
        dl.resumable_dataset(_images(), 32),
        epochs=1,
        steps_per_epoch=3,
        callbacks=[progress],
        shuffle=False,
    )
    kinds = [kind for kind, _ in shown]
    assert kinds[0] == "display" and set(kinds[1:]) == {"update"} and len(kinds) == 4
    last = shown[-1][1]
    assert last["image/png"].startswith("iVBOR")  # a PNG, base64
    assert "step 3/100" in last["text/plain"] and last["text/plain"].endswith("stopped")


def test_train_with_train_on_batch_reports_to_each_of_a_list():
    G, D = dl.build_dense_generator(100), dl.build_dense_discriminator()
    gan = dl.compile_gan(G, D)
    recorder = dl.Progress(fixed_z=np.zeros((4, 100), np.float32), out=io.StringIO())
    log = io.StringIO()
    progress = dl.Progress(steps=4, out=log)
    dl.train_with_train_on_batch(
        G, D, gan, _images(), iterations=4, batch_size=16, report_every=2, verbose=False,
        on_report=[recorder, progress],
    )  # fmt: skip
    assert recorder.steps == [2, 4] and recorder.samples[0].shape == (4, 28, 28, 1)
    assert progress.steps == [] and "step 4/4" in log.getvalue().splitlines()[-1]
