"""MNIST loading, views, download wiring, the data module and images for prediction.

Small IDX files are written into tmp_path; the bundled sample is the only real data used.
"""

import hashlib
import io
import pickle
import struct
import zlib

import numpy as np
import pytest
import torch
from npy_helpers import npy_bytes
from PIL import Image

from rnnkit.data.download import ChecksumError
from rnnkit.data.mnist import (
    MNIST_MEAN,
    MNIST_STD,
    ImageFileError,
    load_images,
    load_mnist,
    mnist_view,
    pixel_permutation,
)
from rnnkit.data.mnist import images as mnist
from rnnkit.data.mnist.datamodule import MNISTDataModule
from rnnkit.data.mnist.idx import IDXFormatError, write_idx

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def fake_split(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, np.uint8)


def write_mnist(root, gz=True, sizes=(("train", 30), ("test", 12))):
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in sizes:
        images, labels = fake_split(n, seed=n)
        ext = ".gz" if gz else ""
        write_idx(root / (NAMES[split][0] + ext), images)
        write_idx(root / (NAMES[split][1] + ext), labels)
        out[split] = images, labels
    return out


# --- load_mnist ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_directory(tmp_path, gz):
    want = write_mnist(tmp_path, gz=gz)
    for split in ("train", "test"):
        images, labels = load_mnist(tmp_path, split)
        assert images.dtype == np.uint8 and labels.dtype == np.int64
        np.testing.assert_array_equal(images, want[split][0])
        np.testing.assert_array_equal(labels, want[split][1])


def test_load_torchvision_layout(tmp_path):
    want = write_mnist(tmp_path / "MNIST" / "raw")
    np.testing.assert_array_equal(load_mnist(str(tmp_path), "test")[1], want["test"][1])


def test_load_bundled():
    images, labels = load_mnist("bundled", "train")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [1000] * 10
    images, labels = load_mnist("bundled", "test")
    assert images.shape == (2000, 28, 28) and np.bincount(labels).tolist() == [200] * 10


def test_load_full_uses_data_dir(tmp_path, monkeypatch):
    want = write_mnist(tmp_path / "mnist")
    monkeypatch.setenv("RNNKIT_DATA_DIR", str(tmp_path))
    np.testing.assert_array_equal(load_mnist("full", "train")[0], want["train"][0])


def test_missing_file(tmp_path):
    write_mnist(tmp_path, sizes=(("train", 3),))
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.*download=True"):
        load_mnist(tmp_path, "test")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="found 'valid'"):
        load_mnist("bundled", "valid")
    with pytest.raises(ValueError, match="bundled"):
        load_mnist("bundled", download=True)


def test_count_mismatch(tmp_path):
    write_mnist(tmp_path, sizes=(("train", 5),))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(IDXFormatError, match="found 5 images and 4 labels"):
        load_mnist(tmp_path, "train")


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path, sizes=(("train", 2),))
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 27), np.uint8))
    with pytest.raises(IDXFormatError, match="expected images of 28x28 pixels, found 28x27"):
        load_mnist(tmp_path, "train")


def test_swapped_files(tmp_path):
    write_mnist(tmp_path, sizes=(("train", 2),))
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes((tmp_path / "train-images-idx3-ubyte.gz").read_bytes())
    with pytest.raises(IDXFormatError, match=r"train-labels.*expected 1 dimension\(s\)"):
        load_mnist(tmp_path, "train")


def test_label_out_of_range(tmp_path):
    write_mnist(tmp_path, sizes=(("train", 2),))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([3, 10], np.uint8))
    with pytest.raises(IDXFormatError, match="expected labels 0..9, found 10"):
        load_mnist(tmp_path, "train")


# --- download wiring (file:// mirrors, never the network) ----------------------------------


@pytest.fixture
def fake_mirror(tmp_path, monkeypatch):
    """Serve small fake MNIST files from a file:// mirror and make their md5s the expected."""
    served = tmp_path / "mirror"
    write_mnist(served)
    files = {}
    for split in NAMES.values():
        for name in split:
            data = (served / f"{name}.gz").read_bytes()
            files[name] = ("0" * 32, hashlib.md5(data).hexdigest())  # raw md5 wrong, gz md5 ok
    monkeypatch.setattr(mnist, "FILES", files)
    missing = (tmp_path / "no-such-mirror").as_uri() + "/"
    monkeypatch.setattr(mnist, "MIRRORS", (missing, served.as_uri() + "/"))
    return served


def test_download_into_directory(tmp_path, fake_mirror):
    root = tmp_path / "data"
    images, _ = load_mnist(root, "test", download=True)
    assert images.shape == (12, 28, 28)
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.gz" for n in mnist.FILES)


def test_download_full_into_cache(tmp_path, fake_mirror, monkeypatch):
    monkeypatch.setenv("RNNKIT_DATA_DIR", str(tmp_path / "cache"))
    dm = MNISTDataModule("full", download=True, val_size=5, batch_size=4)
    dm.prepare_data()
    assert (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
    dm.setup("fit")
    assert len(dm.train_set) == 25 and len(dm.val_set) == 5


def test_download_checksum_mismatch(tmp_path, fake_mirror, monkeypatch):
    monkeypatch.setattr(mnist, "FILES", {k: ("0" * 32, "1" * 32) for k in mnist.FILES})
    root = tmp_path / "data"
    with pytest.raises(ChecksumError, match="train-images"):
        load_mnist(root, download=True)
    assert list(root.iterdir()) == []


# --- views --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "view, shape", [("rows", (3, 28, 28)), ("pixels", (3, 784, 1)), ("permuted", (3, 784, 1))]
)
def test_view_shapes(view, shape):
    images, _ = fake_split(3)
    x = mnist_view(images, view)
    assert x.shape == shape and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_view_contents():
    images, _ = fake_split(2)
    scaled = images / np.float32(255)
    np.testing.assert_array_equal(mnist_view(images, "rows"), scaled)
    np.testing.assert_array_equal(mnist_view(images, "pixels")[:, :, 0], scaled.reshape(2, 784))
    perm = pixel_permutation(0)
    np.testing.assert_array_equal(
        mnist_view(images, "permuted")[:, :, 0], scaled.reshape(2, 784)[:, perm]
    )


def test_permutation_is_fixed():
    perm = pixel_permutation()
    assert sorted(perm.tolist()) == list(range(784))
    # NumPy's PCG64 stream is stable across versions and machines: pin it.
    assert perm[:10].tolist() == [318, 2, 606, 446, 758, 13, 98, 539, 752, 445]
    np.testing.assert_array_equal(perm, pixel_permutation(0))
    assert not np.array_equal(perm, pixel_permutation(1))


def test_normalize():
    images = np.zeros((1, 28, 28), np.uint8)
    images[0, 0, 0] = 255
    x = mnist_view(images, "rows", normalize=True)
    assert x[0, 0, 0] == pytest.approx((1 - MNIST_MEAN) / MNIST_STD)
    assert x[0, 1, 1] == pytest.approx(-MNIST_MEAN / MNIST_STD)


def test_view_errors():
    with pytest.raises(ValueError, match="found 'cols'"):
        mnist_view(np.zeros((1, 28, 28), np.uint8), "cols")
    with pytest.raises(ValueError, match=r"found \(28, 28\)"):
        mnist_view(np.zeros((28, 28), np.uint8))


# --- MNISTDataModule (bundled sample) -----------------------------------------------------


@pytest.mark.parametrize("view, length, features", [("rows", 28, 28), ("permuted", 784, 1)])
def test_datamodule_batches(view, length, features):
    dm = MNISTDataModule(view=view, batch_size=32, val_size=500)
    assert (dm.seq_len, dm.input_size, dm.num_classes) == (length, features, 10)
    assert dm.class_names == tuple("0123456789")
    dm.setup("fit")
    assert len(dm.train_set) == 9500 and len(dm.val_set) == 500
    for loader in (dm.train_dataloader(), dm.val_dataloader()):
        x, y = next(iter(loader))
        assert x.shape == (32, length, features) and x.dtype == torch.float32
        assert y.shape == (32,) and y.dtype == torch.int64
    dm.setup("test")
    x, y = next(iter(dm.test_dataloader()))
    assert x.shape == (32, length, features) and len(dm.test_set) == 2000


def test_datamodule_split_is_seeded():
    def val_labels(seed):
        dm = MNISTDataModule(val_size=100, seed=seed)
        dm.setup("fit")
        return dm.val_set.tensors[1]

    assert torch.equal(val_labels(0), val_labels(0))
    assert not torch.equal(val_labels(0), val_labels(1))


def test_datamodule_no_validation():
    dm = MNISTDataModule(val_size=0, normalize=True)
    dm.setup("fit")
    assert len(dm.train_set) == 10_000 and len(dm.val_dataloader()) == 0
    assert dm.train_set.tensors[0].min() < 0  # normalised


def test_datamodule_bad_arguments():
    with pytest.raises(ValueError, match="found 'cols'"):
        MNISTDataModule(view="cols")
    with pytest.raises(ValueError, match="batch_size"):
        MNISTDataModule(batch_size=0)
    with pytest.raises(ValueError, match="bundled"):
        MNISTDataModule(download=True)
    dm = MNISTDataModule(val_size=10_000)
    with pytest.raises(ValueError, match="expected val_size < 10000"):
        dm.setup("fit")


def test_datamodule_transform_matches_dataset():
    dm = MNISTDataModule(view="pixels", val_size=0)
    dm.setup("fit")
    images, _ = load_mnist("bundled")
    assert torch.equal(dm.transform(images[:5]), dm.train_set.tensors[0][:5])


# --- load_images --------------------------------------------------------------------------


def digit():
    """A white vertical bar on black, MNIST's convention."""
    a = np.zeros((28, 28), np.uint8)
    a[4:24, 12:16] = 255
    return a


def test_images_npy(tmp_path):
    np.save(tmp_path / "one.npy", digit())
    np.save(tmp_path / "many.npy", np.stack([digit()] * 3))
    np.save(tmp_path / "float.npy", digit() / np.float32(255))
    out = load_images([tmp_path / "one.npy", tmp_path / "many.npy", str(tmp_path / "float.npy")])
    assert out.shape == (5, 28, 28) and out.dtype == np.uint8
    assert (out == digit()).all()


def test_images_idx(tmp_path):
    images, _ = fake_split(4)
    images[:, 0, :] = 0  # dark border: no auto-inversion
    images[:, -1, :] = images[:, :, 0] = images[:, :, -1] = 0
    path = write_idx(tmp_path / "x-idx3-ubyte.gz", images)
    np.testing.assert_array_equal(load_images(path), images)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_images_png(tmp_path, mode):
    path = tmp_path / f"d-{mode}.png"
    Image.fromarray(digit()).convert(mode).save(path)
    out = load_images(path)
    assert out.shape == (1, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], digit())


def test_images_png_inverted(tmp_path):
    path = tmp_path / "dark-on-light.png"
    Image.fromarray(255 - digit()).save(path)
    np.testing.assert_array_equal(load_images(path)[0], digit())  # auto
    np.testing.assert_array_equal(load_images(path, invert=False)[0], 255 - digit())
    np.testing.assert_array_equal(load_images(path, invert=True)[0], digit())


def test_images_png_transparent_over_black(tmp_path):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., :3] = 255  # white everywhere, opaque only on the digit
    rgba[..., 3] = digit()
    path = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(path)
    np.testing.assert_array_equal(load_images(path)[0], digit())


def test_images_wrong_size(tmp_path):
    Image.fromarray(np.zeros((32, 30), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ImageFileError, match=r"big.png: expected a 28x28.*found 30x32 \(width x "
                       r"height\).*resize"):
        load_images(tmp_path / "big.png")
    np.save(tmp_path / "flat.npy", np.zeros(784, np.uint8))
    with pytest.raises(ValueError, match=r"expected 28x28.*\(784,\)"):
        load_images(tmp_path / "flat.npy")


def test_images_bad_values(tmp_path):
    np.save(tmp_path / "neg.npy", np.full((28, 28), -3.0))
    with pytest.raises(ValueError, match=r"found \[-3, -3\]"):
        load_images(tmp_path / "neg.npy")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match="junk.png: expected an image file"):
        load_images(tmp_path / "junk.png")




@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "found an empty file"),
    (npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6, 5)}),
     "declares shape (1000000, 1000000, 5) of float64, 40,000,000,000,000 bytes of data; found "
     "0 bytes (truncated file)"),
    (pickle.dumps(np.zeros((28, 28))), "found a Python pickle"),
    (npy_bytes(np.array([{}], dtype=object)), "found Python objects"),
    (npy_bytes(np.zeros((2, 28, 28), np.uint8))[:-100], "truncated file"),
    (b"PK\x03\x04" + bytes(40), "found a zip archive"),
])
def test_images_broken_npy(tmp_path, data, fragment):
    path = tmp_path / "bad.npy"
    path.write_bytes(data)
    with pytest.raises(ValueError) as e:
        load_images(path)
    assert str(e.value).startswith(f"{path}: ") and fragment in str(e.value)


def test_images_file_without_images(tmp_path):
    np.save(tmp_path / "none.npy", np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(ImageFileError, match=r"none.npy: holds no images \(array shape \(0, 28"):
        load_images(tmp_path / "none.npy")


def png_declaring(width, height):
    """A 28x28 PNG whose header is rewritten to declare width x height pixels."""
    buf = io.BytesIO()
    Image.fromarray(digit()).save(buf, format="PNG")
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))
    return buf.getvalue()[:8] + chunk + buf.getvalue()[33:]


@pytest.mark.parametrize("side", [30000, 12000, 3000])  # Pillow's bomb error, its warning, none
def test_images_huge_png_is_refused_before_decoding(tmp_path, side, recwarn):
    path = tmp_path / "huge.png"
    path.write_bytes(png_declaring(side, side))
    with pytest.raises(ImageFileError, match=f"huge.png: expected a 28x28 pixel image, found .*"
                       f"{side}x{side}"):
        load_images(path)
    assert not recwarn.list


def test_images_corrupt_png(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(digit()).save(buf, format="PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[:-30])
    with pytest.raises(ImageFileError, match="cut.png: expected an image file.*corrupt or trunc"):
        load_images(tmp_path / "cut.png")
    np.save(tmp_path / "array.npy", digit())
    (tmp_path / "array.png").write_bytes((tmp_path / "array.npy").read_bytes())
    with pytest.raises(ImageFileError, match="array.png: expected an image file"):
        load_images(tmp_path / "array.png")
