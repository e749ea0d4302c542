"""A stdout whose first write to the target is interrupted by a signal, as a write blocked on a
slow target is: the signal's handler runs inside stdout's buffer, between two of the main
thread's bytecodes."""

from __future__ import annotations

import io
import signal
import typing as t


class InterruptedTarget(io.RawIOBase):
    """The target's pipe: what reached it, its first write interrupted by `signum`."""

    def __init__(self, signum: signal.Signals) -> None:
        self.signum = signum
        self.written = bytearray()
        self.interrupted = False

    def writable(self) -> bool:
        return True

    def write(self, data: t.Any) -> int:
        if not self.interrupted:
            self.interrupted = True
            signal.raise_signal(self.signum)
        self.written += data
        return len(data)


def stdout_interrupted_by(monkeypatch: t.Any, signum: signal.Signals) -> InterruptedTarget:
    """`sys.stdout` on a small buffer over the target (no file descriptor: the tap writes to the
    buffer). Called in the test itself: pytest's capture puts its own stdout back after fixtures."""
    target = InterruptedTarget(signum)
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BufferedWriter(target, buffer_size=256)))
    return target
