"""FID on the shared horse2zebra photos computed without ``translate``: PIL's bicubic resize
of each channel as float32 (clean-fid's ``resize_single_channel``, not of the 8-bit image,
which rounds), a direct call of the TorchScript network on hand-normalised input, and
scipy's ``sqrtm``.

``tests/test_fid_scale.py`` pins the figures this prints; run it again if the data or the
network file ever changes:

    python tests/independent_fid.py [DATA_ROOT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from PIL import Image


def resized(path: Path) -> np.ndarray:
    """299 x 299 x 3 float32, each channel resized on its own in PIL's mode F, clipped to 0..255."""
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return np.stack([np.asarray(Image.fromarray(image[:, :, c], mode="F").resize((299, 299), Image.BICUBIC))
                     for c in range(3)], axis=2).clip(0, 255)


def features(net: torch.jit.ScriptModule, files: list[Path]) -> np.ndarray:
    out = []
    for start in range(0, len(files), 25):
        images = [resized(f) for f in files[start : start + 25]]
        x = (torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2) - 128) / 128
        with torch.no_grad():
            out.append(net(x).reshape(len(x), -1).double().numpy())
    return np.concatenate(out)


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data")
    net = torch.jit.load(str(root / "fid" / "inception-2015-12-05-fid.pt"), map_location="cpu").eval()
    h2z = root / "horse2zebra"
    zebras = features(net, sorted((h2z / "testB").glob("*.jpg")))
    train_zebras = features(net, sorted((h2z / "trainB").glob("*.jpg"))[:200])
    horses = features(net, sorted((h2z / "testA").glob("*.jpg")))
    print(f"140 test zebras vs first 200 train zebras: FID {frechet(zebras, train_zebras):.3f}")
    print(f"120 test horses vs 140 test zebras: FID {frechet(horses, zebras):.3f}")
    with torch.no_grad():
        grey = net(torch.zeros(1, 3, 299, 299)).reshape(-1).double().numpy()  # grey level 128, normalised
    print(f"grey 128: feature sum {grey.sum():.4f}, first five {np.round(grey[:5], 5).tolist()}")


if __name__ == "__main__":
    main()
