"""The probe sets these results were scored on, rebuilt from today's code.

Usage: ``python docs/results/wm_vs_physics/probe_prefix.py SRC DST SEQUENCES EXPECTED_HASH``

Billiards' and Tower's probe sets here were built by the code of 2026-11-30 between da5a8a0
and e964efd, which stopped collecting as soon as a *sequence* completed the regime counts;
since e964efd collection stops between *episodes*, so the same command now keeps the rest of
the last episode: the same sequences, bit for bit, and 2 (Billiards) or 4 (Tower) more at the
end. This writes the first ``SEQUENCES`` sequences of the probe set ``SRC`` (built today with
``contactlab probe make``) as a probe set at ``DST`` and checks that its content hash is
``EXPECTED_HASH``; a ``DST`` that already holds it is kept. Exits non-zero, with ``DST``
removed, when the hash differs (then today's collection no longer reproduces those sequences,
and the results here cannot be reproduced from it).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from world_model.dataset import DatasetError
from world_model.probe import load_probe_set, save_probe_set


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    src, dst, expected = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4]
    sequences = int(sys.argv[3])
    if dst.exists():
        try:
            have = load_probe_set(dst).content_hash
        except DatasetError as exc:
            raise SystemExit(f"{dst}: not a loadable probe set ({exc}); remove it") from None
        if have != expected:
            raise SystemExit(f"{dst}: content hash {have[:12]}..., expected {expected[:12]}...")
        print(f"{dst}: kept (content hash {have[:12]}...)")
        return
    probe = load_probe_set(src)
    rows = sequences * probe.seq_len
    if rows > len(probe.data):
        raise SystemExit(f"{src}: {len(probe.data) // probe.seq_len} sequences, not {sequences}")
    arrays = probe.data.head(rows).arrays()
    digest = save_probe_set(dst, arrays, probe.data.meta, probe.seq_len)
    if digest != expected:
        shutil.rmtree(dst)
        raise SystemExit(
            f"{src}: its first {sequences} sequences hash to {digest[:12]}..., not "
            f"{expected[:12]}...: today's collection does not reproduce the probe set"
        )
    print(
        f"{dst}: the first {sequences} of {len(probe.data) // probe.seq_len} sequences of "
        f"{src.name}, content hash {digest[:12]}... as expected"
    )


if __name__ == "__main__":
    main()
